import { z } from 'zod';
import { createProgram, parseArgv, runCli } from '../cli/index.js';
import { databaseUrlFromEnv } from './database.js';
import { ExitCode } from './errors.js';
import { migrateUp } from './migrate-up.js';

const program = createProgram('npm run db:migrate', 'Applies pending migrations to AP_POSTGRES_URL, creating the database when missing.')
  .usage('[-- --migrations-dir DIR]   (database: AP_POSTGRES_URL)')
  .option('--migrations-dir <dir>', "the migrations to apply (default: the repository's)");

// npm run db:migrate [-- --migrations-dir DIR]: applies pending migrations to AP_POSTGRES_URL.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ migrationsDir: z.string().min(1).optional() }));
  const url = databaseUrlFromEnv();
  const target = new URL(url);
  target.password = target.password ? '***' : '';
  const { applied } = await migrateUp(url, {
    migrationsDir: args.migrationsDir,
    log: (line) => console.log(line),
  });
  console.log(applied.length === 0
    ? `${target.toString()} is up to date; nothing applied`
    : `applied ${applied.length} migration(s) to ${target.toString()}`);
  return ExitCode.ok;
});
