import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { extractImageManifest, writeManifestFile, writeOutputFile } from './image-manifest.js';
import { readRunningImage } from './running-image.js';

const program = createProgram('npm run -s canary:running-manifest', "Writes the migration manifest of the image a deployment runs and prints that image.")
  .usage('-- --deployment <name> --out <file>')
  .option('--deployment <name>', 'the Deployment, e.g. canary-edge-app-canary')
  .option('--out <file>', 'where to write the manifest (the file migrations:check reads)');

// Writes an empty <file> when the deployment does not exist (nothing deployed yet) and prints the image, or an empty
// line, on stdout for the workflow to capture. Everything meant for people goes to stderr.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    deployment: z.string({ error: 'is required (e.g. canary-edge-app-canary)' }).min(1),
    out: z.string({ error: 'is required (the file migrations:check reads)' }).min(1),
  }));
  const image = await readRunningImage(args.deployment);
  if (image === null) {
    const path = await writeOutputFile(args.out, '');
    console.error(`deployment/${args.deployment} does not exist: nothing deployed yet. Wrote an empty ${path}.`);
    console.log('');
    return ExitCode.ok;
  }
  const migrations = await extractImageManifest(image);
  const path = await writeManifestFile(args.out, migrations);
  console.error(`deployment/${args.deployment} runs ${image}; wrote its manifest to ${path} (${migrations.length} migration(s), last: ${migrations.at(-1) ?? 'none'}).`);
  console.log(image);
  return ExitCode.ok;
});
