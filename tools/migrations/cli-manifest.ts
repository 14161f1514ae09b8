import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseCliArgs } from './cli-args.js';
import { ExitCode } from './errors.js';
import { buildManifest, serializeManifest } from './manifest.js';
import { runCli } from './run-cli.js';

// npm run migrations:manifest [-- --out FILE]: the ordered migration names of this build, as JSON.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { out: { type: 'string' }, 'migrations-dir': { type: 'string' } },
    z.object({ out: z.string().min(1).optional(), 'migrations-dir': z.string().min(1).optional() }),
    'npm run migrations:manifest [-- --out FILE] [--migrations-dir DIR]',
  );
  const manifest = buildManifest(args['migrations-dir']);
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
