import { z } from 'zod';
import { parseCliArgs } from './cli-args.js';
import { databaseUrlFromEnv } from './database.js';
import { ExitCode } from './errors.js';
import { migrateUp } from './migrate-up.js';
import { runCli } from './run-cli.js';

// npm run db:migrate [-- --migrations-dir DIR]: applies pending migrations to AP_POSTGRES_URL.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { 'migrations-dir': { type: 'string' } },
    z.object({ 'migrations-dir': z.string().min(1).optional() }),
    'npm run db:migrate [-- --migrations-dir DIR]   (database: AP_POSTGRES_URL)',
  );
  const url = databaseUrlFromEnv();
  const target = new URL(url);
  target.password = target.password ? '***' : '';
  const { applied } = await migrateUp(url, {
    migrationsDir: args['migrations-dir'],
    log: (line) => console.log(line),
  });
  console.log(applied.length === 0
    ? `${target.toString()} is up to date; nothing applied`
    : `applied ${applied.length} migration(s) to ${target.toString()}`);
  return ExitCode.ok;
});
