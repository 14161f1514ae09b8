import { ensureDatabase, withClient, withMigrationLock } from './database.js';
import { LedgerConflictError, MigrationFailedError } from './errors.js';
import { ensureLedgerTable, insertLedgerEntry, readLedgerWith, type LedgerEntry } from './ledger.js';
import { loadMigrations } from './load-migrations.js';
import type { Migration } from './migration-file.js';

export interface MigrateUpOptions {
  /** Directory of `NNNN_name.sql` files; defaults to the repository's `migrations/`. */
  migrationsDir?: string;
  /** Create the database when it does not exist (default true). */
  createDatabase?: boolean;
  /** Receives one line per applied migration. */
  log?: (line: string) => void;
}

export interface MigrateUpResult {
  /** Names applied by this call, in order; empty when the database was up to date. */
  applied: string[];
}

/**
 * Applies every migration of the build that the database's ledger lacks, each in its own transaction together with
 * its ledger row, under an advisory lock. Refuses (changing nothing) when an applied migration changed or is missing.
 */
export async function migrateUp(databaseUrl: string, options: MigrateUpOptions = {}): Promise<MigrateUpResult> {
  const migrations = loadMigrations(options.migrationsDir);
  if (options.createDatabase ?? true) await ensureDatabase(databaseUrl);
  return withClient(databaseUrl, (client) =>
    withMigrationLock(client, async () => {
      await ensureLedgerTable(client);
      const ledger = await readLedgerWith(client);
      assertLedgerMatchesBuild(ledger, migrations);
      const appliedNames = new Set(ledger.map((entry) => entry.name));
      const applied: string[] = [];
      for (const migration of migrations.filter((m) => !appliedNames.has(m.name))) {
        await client.query('BEGIN');
        try {
          await client.query(migration.up);
          await insertLedgerEntry(client, migration);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationFailedError(migration.name, 'up', error);
        }
        applied.push(migration.name);
        options.log?.(`applied ${migration.name}${migration.breaking ? ' (breaking)' : ''}`);
      }
      return { applied };
    }),
  );
}

/** Throws when the ledger holds a migration this build lacks or whose file changed since it was applied. */
export function assertLedgerMatchesBuild(ledger: LedgerEntry[], migrations: Migration[]): void {
  const byName = new Map(migrations.map((m) => [m.name, m]));
  const problems: string[] = [];
  for (const entry of ledger) {
    const migration = byName.get(entry.name);
    if (!migration) {
      problems.push(`${entry.name} is applied but not in this build (the database is ahead of it: deploy a build that contains it, or run migrations:rollback to this build's manifest)`);
    } else if (migration.checksum !== entry.checksum) {
      problems.push(`${entry.name} changed after it was applied (${migration.file}); restore the file and put the change in a new migration`);
    }
  }
  if (problems.length > 0) {
    throw new LedgerConflictError(`refusing to migrate, nothing was changed:\n  - ${problems.join('\n  - ')}`);
  }
}
