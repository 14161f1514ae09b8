import type pg from 'pg';
import { withClient } from './database.js';
import type { Migration } from './migration-file.js';

/** One row of `schema_migrations`: a migration applied to this database. */
export interface LedgerEntry {
  name: string;
  /** 1-based apply order; rollback undoes the highest ordinals first. */
  ordinal: number;
  release: string;
  breaking: boolean;
  checksum: string;
  /**
   * The `down` SQL as it was when applied. Rollback runs this, so a database can be rolled back from any checkout
   * (the build that applied a migration may be the only one that contains it).
   */
  downSql: string;
  appliedAt: Date;
}

export const LEDGER_TABLE = 'schema_migrations';

/** Creates the ledger table if it is missing (call while holding the migration lock). */
export async function ensureLedgerTable(client: pg.Client): Promise<void> {
  await client.query(`
    CREATE TABLE IF NOT EXISTS ${LEDGER_TABLE} (
      name text PRIMARY KEY,
      ordinal integer NOT NULL UNIQUE,
      release text NOT NULL,
      breaking boolean NOT NULL,
      checksum text NOT NULL,
      down_sql text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
}

interface LedgerRow {
  name: string;
  ordinal: number;
  release: string;
  breaking: boolean;
  checksum: string;
  down_sql: string;
  applied_at: Date;
}

/** Reads the ledger in apply order; an empty list when the table does not exist yet. */
export async function readLedgerWith(client: pg.Client): Promise<LedgerEntry[]> {
  const exists = await client.query<{ present: boolean }>(`SELECT to_regclass('${LEDGER_TABLE}') IS NOT NULL AS present`);
  if (!exists.rows[0]?.present) return [];
  const result = await client.query<LedgerRow>(
    `SELECT name, ordinal, release, breaking, checksum, down_sql, applied_at FROM ${LEDGER_TABLE} ORDER BY ordinal`,
  );
  return result.rows.map((row) => ({
    name: row.name,
    ordinal: row.ordinal,
    release: row.release,
    breaking: row.breaking,
    checksum: row.checksum,
    downSql: row.down_sql,
    appliedAt: row.applied_at,
  }));
}

/** Reads the ledger of the database at `databaseUrl`, in apply order. */
export function readLedger(databaseUrl: string): Promise<LedgerEntry[]> {
  return withClient(databaseUrl, readLedgerWith);
}

/** Records `migration` as applied, after every migration already in the ledger. */
export async function insertLedgerEntry(client: pg.Client, migration: Migration): Promise<void> {
  await client.query(
    `INSERT INTO ${LEDGER_TABLE} (name, ordinal, release, breaking, checksum, down_sql)
     SELECT $1, COALESCE(MAX(ordinal), 0) + 1, $2, $3, $4, $5 FROM ${LEDGER_TABLE}`,
    [migration.name, migration.release, migration.breaking, migration.checksum, migration.down],
  );
}

/** Removes `name` from the ledger (its `down` ran in the same transaction). */
export async function deleteLedgerEntry(client: pg.Client, name: string): Promise<void> {
  await client.query(`DELETE FROM ${LEDGER_TABLE} WHERE name = $1`, [name]);
}
