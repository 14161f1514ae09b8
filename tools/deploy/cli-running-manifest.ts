import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { extractImageManifest, writeManifestFile, writeOutputFile } from './image-manifest.js';
import { readRunningImage } from './running-image.js';

// npm run -s canary:running-manifest -- --deployment <name> --out <file>: writes the migration manifest of the image
// the deployment runs to <file> (an empty file when the deployment does not exist: nothing deployed yet) and prints
// that image, or an empty line, on stdout for the workflow to capture. Everything meant for people goes to stderr.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { deployment: { type: 'string' }, out: { type: 'string' } },
    z.object({
      deployment: z.string({ error: 'is required (e.g. canary-edge-app-canary)' }).min(1),
      out: z.string({ error: 'is required (the file migrations:check reads)' }).min(1),
    }),
    'npm run -s canary:running-manifest -- --deployment <name> --out <file>',
  );
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
