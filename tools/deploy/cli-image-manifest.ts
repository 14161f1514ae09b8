import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { extractImageManifest, writeManifestFile } from './image-manifest.js';

// npm run canary:image-manifest -- --image <image> --out <file>: writes the migration manifest an image carries, the
// target of migrations:rollback. An image without a manifest fails: its migration state is unknown.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { image: { type: 'string' }, out: { type: 'string' } },
    z.object({
      image: z.string({ error: 'is required (registry/repository:tag)' }).min(1),
      out: z.string({ error: 'is required (the file migrations:rollback reads)' }).min(1),
    }),
    'npm run canary:image-manifest -- --image <image> --out <file>',
  );
  const migrations = await extractImageManifest(args.image);
  const path = await writeManifestFile(args.out, migrations);
  console.log(`wrote the manifest of ${args.image} to ${path}: ${migrations.length} migration(s)`);
  for (const name of migrations) console.log(`  ${name}`);
  return ExitCode.ok;
});
