import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { createProgram, parseArgv, runCli } from '../cli/index.js';
import { ExitCode } from './errors.js';
import { buildManifest, serializeManifest } from './manifest.js';

const program = createProgram('npm run migrations:manifest', "Prints (or writes) this build's migration manifest.")
  .usage('[-- --out FILE] [--migrations-dir DIR]')
  .option('--out <file>', 'write the manifest to FILE (creating its directory) instead of stdout')
  .option('--migrations-dir <dir>', "this build's migrations (default: the repository's)");

// npm run migrations:manifest [-- --out FILE]: the ordered migration names of this build, as JSON.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ out: z.string().min(1).optional(), migrationsDir: z.string().min(1).optional() }));
  const manifest = buildManifest(args.migrationsDir);
  const text = serializeManifest(manifest);
  if (!args.out) {
    process.stdout.write(text);
    return ExitCode.ok;
  }
  const out = resolve(args.out);
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, text);
  console.log(`wrote ${out} (${manifest.migrations.length} migration(s), last: ${manifest.migrations.at(-1) ?? 'none'})`);
  return ExitCode.ok;
});
