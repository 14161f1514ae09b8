import { z } from 'zod';
import { parseCliArgs } from './cli-args.js';
import { ExitCode } from './errors.js';
import { formatFinding, lintMigrations } from './lint.js';
import { loadMigrations } from './load-migrations.js';
import { runCli } from './run-cli.js';

// npm run migrations:lint [-- --migrations-dir DIR]: destructive statements in migrations not declared breaking.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { 'migrations-dir': { type: 'string' } },
    z.object({ 'migrations-dir': z.string().min(1).optional() }),
    'npm run migrations:lint [-- --migrations-dir DIR]',
  );
  const migrations = loadMigrations(args['migrations-dir']);
  const findings = lintMigrations(migrations);
  if (findings.length === 0) {
    console.log(`ok: ${migrations.length} migration(s), no undeclared destructive statement`);
    return ExitCode.ok;
  }
  for (const finding of findings) console.error(formatFinding(finding));
  console.error(`${findings.length} destructive statement(s) in migrations not declared breaking`);
  return ExitCode.breaking;
});
