import { withClient, withMigrationLock } from './database.js';
import { MigrationFailedError } from './errors.js';
import { deleteLedgerEntry, readLedgerWith, type LedgerEntry } from './ledger.js';

/** What a rollback to a target manifest would do, decided from the ledger alone. */
export type RollbackPlan =
  | { kind: 'nothing-to-do'; notApplied: string[] }
  /** `undo` is newest first. */
  | { kind: 'ready'; undo: LedgerEntry[]; notApplied: string[] }
  /** `undo` is newest first; `breaking` are those that need --force. */
  | { kind: 'refused-breaking'; undo: LedgerEntry[]; breaking: LedgerEntry[]; notApplied: string[] }
  /** The migrations absent from the target are not the most recent ones; `blockers` were applied after them yet stay. */
  | { kind: 'refused-out-of-order'; undo: LedgerEntry[]; blockers: LedgerEntry[]; notApplied: string[] };

export interface RollbackOptions {
  /** Migration names of the build to roll back to. */
  target: readonly string[];
  /** Undo breaking migrations too. */
  force?: boolean;
}

/**
 * Decides a rollback: the ledger entries absent from `target` must be the most recent ones in apply order, and none
 * may be breaking unless `force`. Pure, so the rules are testable without a database.
 */
export function computeRollbackPlan(ledger: readonly LedgerEntry[], options: RollbackOptions): RollbackPlan {
  const target = new Set(options.target);
  const applied = new Set(ledger.map((entry) => entry.name));
  const notApplied = options.target.filter((name) => !applied.has(name));
  const ordered = [...ledger].sort((a, b) => a.ordinal - b.ordinal);
  const firstAbsent = ordered.findIndex((entry) => !target.has(entry.name));
  if (firstAbsent === -1) return { kind: 'nothing-to-do', notApplied };
  const tail = ordered.slice(firstAbsent);
  const undo = tail.filter((entry) => !target.has(entry.name)).reverse();
  const blockers = tail.filter((entry) => target.has(entry.name));
  if (blockers.length > 0) return { kind: 'refused-out-of-order', undo, blockers, notApplied };
  const breaking = undo.filter((entry) => entry.breaking);
  if (breaking.length > 0 && !options.force) return { kind: 'refused-breaking', undo, breaking, notApplied };
  return { kind: 'ready', undo, notApplied };
}

export interface RunRollbackOptions extends RollbackOptions {
  /** Plan only (under the lock, so the plan is what a real run would do right now). */
  dryRun?: boolean;
  /** Receives one line per undone migration. */
  log?: (line: string) => void;
}

export interface RollbackResult {
  plan: RollbackPlan;
  /** Names undone by this call, newest first. */
  undone: string[];
  /** Set when a down migration failed: that step was rolled back and the remaining ones were not attempted. */
  failure?: MigrationFailedError;
}

/**
 * Rolls the database back to `target`: under the migration lock, undoes each planned migration newest first, running
 * its recorded `down` and deleting its ledger row in one transaction. Running it again does nothing.
 */
export function rollback(databaseUrl: string, options: RunRollbackOptions): Promise<RollbackResult> {
  return withClient(databaseUrl, (client) =>
    withMigrationLock(client, async () => {
      const plan = computeRollbackPlan(await readLedgerWith(client), options);
      const undone: string[] = [];
      if (plan.kind !== 'ready' || options.dryRun) return { plan, undone };
      for (const entry of plan.undo) {
        await client.query('BEGIN');
        try {
          await client.query(entry.downSql);
          await deleteLedgerEntry(client, entry.name);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          return { plan, undone, failure: new MigrationFailedError(entry.name, 'down', error) };
        }
        undone.push(entry.name);
        options.log?.(`undid ${entry.name}${entry.breaking ? ' (breaking)' : ''}`);
      }
      return { plan, undone };
    }),
  );
}
