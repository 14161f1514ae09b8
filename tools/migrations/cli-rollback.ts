import { z } from 'zod';
import { createProgram, parseArgv, runCli, UsageError } from '../cli/index.js';
import { databaseUrlFromEnv } from './database.js';
import { ExitCode } from './errors.js';
import type { LedgerEntry } from './ledger.js';
import { IMAGE_MANIFEST_PATH, loadManifest } from './manifest.js';
import { rollback, type RollbackPlan } from './rollback.js';

const program = createProgram('npm run migrations:rollback', "Undoes the applied migrations the target build's manifest lacks, newest first.")
  .usage('-- --manifest <file|-> [--force] [--dry-run]   (database: AP_POSTGRES_URL)')
  .option('--manifest <file|->', "the target build's manifest (a file, or - for stdin)")
  .option('--force', 'also undo breaking migrations (data written since may be lost)')
  .option('--dry-run', 'print the plan and the exit code a real run would have; change nothing');

// npm run migrations:rollback: undoes the applied migrations the target build's manifest lacks, newest first.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    manifest: z.string({ error: 'is required (a file, or - for stdin)' }).min(1),
    force: z.boolean().default(false),
    dryRun: z.boolean().default(false),
  }));
  const target = await loadManifest(args.manifest);
  if (target === null || target.length === 0) {
    // Rolling back to "no migrations" would drop the whole schema; that is never what a canary rollback means.
    throw new UsageError(`target manifest ${args.manifest} is ${target === null ? 'missing' : 'empty'}; refusing to undo every migration. Extract the manifest from the target image (${IMAGE_MANIFEST_PATH}) and pass it.`);
  }
  const dryRun = args.dryRun;
  const result = await rollback(databaseUrlFromEnv(), {
    target,
    force: args.force,
    dryRun,
    log: (line) => console.log(line),
  });
  const code = report(result.plan, dryRun);
  if (result.plan.kind !== 'ready' || dryRun) return code;
  if (result.failure) {
    console.error(`error: ${result.failure.message}`);
    console.error(`undone before the failure: ${result.undone.join(', ') || 'none'}; ${result.failure.migration} and everything older is still applied and recorded, so schema and ledger agree.`);
    console.error(`fix: correct its down SQL (schema_migrations.down_sql for ${result.failure.migration}) or the database state, then rerun the same command.`);
    return ExitCode.failed;
  }
  console.log(`rolled back ${result.undone.length} migration(s): ${result.undone.join(', ')}`);
  return ExitCode.ok;
});

function names(entries: readonly LedgerEntry[]): string {
  return entries.map((e) => `${e.name}${e.breaking ? ' (breaking)' : ''}`).join(', ');
}

// Prints the plan and returns the exit code a real run has for it (a dry run predicts the real run's outcome).
function report(plan: RollbackPlan, dryRun: boolean): number {
  if (plan.notApplied.length > 0) {
    console.log(`note: the target lists ${plan.notApplied.length} migration(s) this database has not applied (${plan.notApplied.join(', ')}); rollback never applies migrations`);
  }
  switch (plan.kind) {
    case 'nothing-to-do':
      console.log('nothing to roll back: every applied migration is in the target manifest');
      return ExitCode.ok;
    case 'refused-out-of-order':
      console.error(`refusing to roll back, nothing was changed: the migrations absent from the target (${names(plan.undo)}) are not the most recent ones;`
        + ` ${names(plan.blockers)} were applied after them and are in the target. Roll back to a manifest that is a prefix of the ledger (see schema_migrations ORDER BY ordinal).`);
      return ExitCode.ledgerConflict;
    case 'refused-breaking':
      console.error(`refusing to roll back, nothing was changed: ${plan.breaking.map((e) => e.name).join(', ')} ${plan.breaking.length === 1 ? 'is' : 'are'} breaking;`
        + ' undoing may destroy data written since. Rerun with --force once you have checked that.');
      console.error(`plan (newest first): ${names(plan.undo)}`);
      return ExitCode.breaking;
    case 'ready':
      console.log(`${dryRun ? 'dry run, nothing changed; would undo' : 'undoing'} (newest first): ${names(plan.undo)}`);
      return ExitCode.ok;
  }
}
