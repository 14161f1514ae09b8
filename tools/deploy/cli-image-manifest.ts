import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { extractImageManifest, writeManifestFile } from './image-manifest.js';

const program = createProgram('npm run canary:image-manifest', 'Writes the migration manifest an image carries.')
  .usage('-- --image <image> --out <file>')
  .option('--image <image>', 'the image, registry/repository:tag')
  .option('--out <file>', 'where to write the manifest (the file migrations:rollback reads)');

// The target of migrations:rollback. An image without a manifest fails: its migration state is unknown.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    image: z.string({ error: 'is required (registry/repository:tag)' }).min(1),
    out: z.string({ error: 'is required (the file migrations:rollback reads)' }).min(1),
  }));
  const migrations = await extractImageManifest(args.image);
  const path = await writeManifestFile(args.out, migrations);
  console.log(`wrote the manifest of ${args.image} to ${path}: ${migrations.length} migration(s)`);
  for (const name of migrations) console.log(`  ${name}`);
  return ExitCode.ok;
});
