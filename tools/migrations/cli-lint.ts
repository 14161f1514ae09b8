import { z } from 'zod';
import { createProgram, parseArgv, runCli } from '../cli/index.js';
import { ExitCode } from './errors.js';
import { formatFinding, lintMigrations } from './lint.js';
import { loadMigrations } from './load-migrations.js';

const program = createProgram('npm run migrations:lint', 'Finds destructive statements in migrations not declared breaking.')
  .usage('[-- --migrations-dir DIR]')
  .option('--migrations-dir <dir>', "the migrations to lint (default: the repository's)");

// npm run migrations:lint [-- --migrations-dir DIR]: destructive statements in migrations not declared breaking.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ migrationsDir: z.string().min(1).optional() }));
  const migrations = loadMigrations(args.migrationsDir);
  const findings = lintMigrations(migrations);
  if (findings.length === 0) {
    console.log(`ok: ${migrations.length} migration(s), no undeclared destructive statement`);
    return ExitCode.ok;
  }
  for (const finding of findings) console.error(formatFinding(finding));
  console.error(`${findings.length} destructive statement(s) in migrations not declared breaking`);
  return ExitCode.breaking;
});
