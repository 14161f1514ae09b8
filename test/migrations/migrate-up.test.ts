import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maintenanceUrl, withClient } from '../../tools/migrations/database.js';
import {
  LedgerConflictError,
  loadMigrations,
  MigrationFailedError,
  migrateUp,
  readLedger,
} from '../../tools/migrations/index.js';
import { createTestDatabase, testServerUrl, type TestDatabase } from '../../testkit/test-database.js';
import { CHAIN, migrationText, prefix, writeMigrationsDir } from './support/fixture-migrations.js';
import { dumpSchema } from './support/schema-dump.js';

describe('db:migrate (migrateUp)', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  async function emptyDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase({ migrate: false });
    cleanups.push(() => db.close());
    return db;
  }
  function fixture(specs: Parameters<typeof writeMigrationsDir>[0]): string {
    const f = writeMigrationsDir(specs);
    cleanups.push(f.remove);
    return f.dir;
  }

  it('applies every migration once, in order, and records it in the ledger', async () => {
    const db = await emptyDatabase();
    const dir = fixture(prefix(CHAIN, 3));
    expect(await migrateUp(db.url, { migrationsDir: dir })).toEqual({ applied: ['0001_widget', '0002_widget_color', '0003_gadget'] });
    const ledger = await readLedger(db.url);
    expect(ledger.map((e) => [e.name, e.ordinal])).toEqual([['0001_widget', 1], ['0002_widget_color', 2], ['0003_gadget', 3]]);
    expect(ledger.map((e) => e.checksum)).toEqual(loadMigrations(dir).map((m) => m.checksum));
    expect(await migrateUp(db.url, { migrationsDir: dir })).toEqual({ applied: [] });
  });

  it('creates the repository schema, where rows with only the contract columns insert fine', async () => {
    const db = await createTestDatabase();
    cleanups.push(() => db.close());
    await withClient(db.url, async (client) => {
      await client.query(`INSERT INTO platform (id, name) VALUES ('p1', 'P')`);
      await client.query(`INSERT INTO platform_plan (platform_id) VALUES ('p1')`);
      await client.query(`INSERT INTO project (id, platform_id) VALUES ('pr1', 'p1')`);
      await client.query(`INSERT INTO flow (id, project_id) VALUES ('f1', 'pr1')`);
      await client.query(`INSERT INTO api_key (id, platform_id, hashed_value) VALUES ('k1', 'p1', 'h')`);
      await client.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue, worker_version) VALUES ('r1', 'f1', 'p1', 'QUEUED', 'workerJobs', '1')`);
      const plan = await client.query(`SELECT canary FROM platform_plan WHERE platform_id = 'p1'`);
      expect(plan.rows).toEqual([{ canary: false }]);
      await expect(client.query(`INSERT INTO api_key (id, platform_id, hashed_value) VALUES ('k2', 'p1', 'h')`)).rejects.toThrow(/unique/);
    });
  });

  it('applies a newer build on top, continuing the ledger order', async () => {
    const db = await emptyDatabase();
    await migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 2)) });
    expect(await migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 4)) })).toEqual({ applied: ['0003_gadget', '0004_widget_size'] });
    expect((await readLedger(db.url)).map((e) => e.ordinal)).toEqual([1, 2, 3, 4]);
  });

  it('refuses, changing nothing, when an applied migration changed since', async () => {
    const db = await emptyDatabase();
    await migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 2)) });
    const before = await dumpSchema(db.url);
    const edited = fixture(prefix(CHAIN, 3));
    writeFileSync(join(edited, '0002_widget_color.sql'), migrationText({ ...CHAIN[1], name: '0002_widget_color', up: "ALTER TABLE widget ADD COLUMN color text DEFAULT 'blue';", down: 'SELECT 1;' }));
    const attempt = migrateUp(db.url, { migrationsDir: edited });
    await expect(attempt).rejects.toThrow(LedgerConflictError);
    await expect(attempt).rejects.toThrow(/0002_widget_color changed after it was applied/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('refuses, changing nothing, when an applied migration is missing from the build', async () => {
    const db = await emptyDatabase();
    await migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 3)) });
    const before = await dumpSchema(db.url);
    await expect(migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 2)) })).rejects.toThrow(/0003_gadget is applied but not in this build/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('rolls back a failing migration together with its ledger row and keeps the ones before it', async () => {
    const db = await emptyDatabase();
    const dir = fixture([
      ...prefix(CHAIN, 1),
      { name: '0002_half_done', up: 'CREATE TABLE half (id text);\nSELECT * FROM no_such_table;', down: 'DROP TABLE half;' },
    ]);
    const attempt = migrateUp(db.url, { migrationsDir: dir });
    await expect(attempt).rejects.toThrow(MigrationFailedError);
    await expect(attempt).rejects.toThrow(/0002_half_done failed and was rolled back/);
    expect((await readLedger(db.url)).map((e) => e.name)).toEqual(['0001_widget']);
    const relations = (await dumpSchema(db.url)).relations as Array<{ relname: string }>;
    expect(relations.map((r) => r.relname)).not.toContain('half');
  });

  it('applies a migration together with its ledger row: if recording fails, the migration is rolled back too', async () => {
    const db = await emptyDatabase();
    const dir = fixture([
      ...prefix(CHAIN, 1),
      {
        name: '0002_unrecordable',
        // The SQL succeeds, then makes the ledger insert of the same step fail.
        up: "CREATE TABLE half (id text);\nCREATE FUNCTION refuse_ledger_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger closed'; END $$;\nCREATE TRIGGER close_ledger BEFORE INSERT ON schema_migrations FOR EACH ROW EXECUTE FUNCTION refuse_ledger_insert();",
        down: 'DROP TABLE half;',
      },
    ]);
    await migrateUp(db.url, { migrationsDir: fixture(prefix(CHAIN, 1)) });
    const before = await dumpSchema(db.url);
    await expect(migrateUp(db.url, { migrationsDir: dir })).rejects.toThrow(/0002_unrecordable failed and was rolled back: ledger closed/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('lets two concurrent migrators apply each migration exactly once', async () => {
    const db = await emptyDatabase();
    const dir = fixture(CHAIN);
    const [a, b] = await Promise.all([migrateUp(db.url, { migrationsDir: dir }), migrateUp(db.url, { migrationsDir: dir })]);
    expect([...(a?.applied ?? []), ...(b?.applied ?? [])].sort()).toEqual(CHAIN.map((s) => s.name));
    expect((await readLedger(db.url)).map((e) => e.ordinal)).toEqual([1, 2, 3, 4, 5]);
  });

  it('creates the database when it does not exist', async () => {
    const url = new URL(testServerUrl());
    const name = `ce_test_${randomBytes(6).toString('hex')}`;
    url.pathname = `/${name}`;
    cleanups.push(() => withClient(maintenanceUrl(url.toString()), async (admin) => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }));
    expect((await migrateUp(url.toString(), { migrationsDir: fixture(prefix(CHAIN, 1)) })).applied).toEqual(['0001_widget']);
  });
});

describe('createTestDatabase', () => {
  it('creates a migrated database with a ce_test_ name and drops it', async () => {
    const db = await createTestDatabase();
    expect(db.name).toMatch(/^ce_test_[0-9a-f]{12}$/);
    expect((await readLedger(db.url)).map((e) => e.name)).toEqual(loadMigrations().map((m) => m.name));
    await db.close();
    const left = await withClient(testServerUrl(), (c) => c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]));
    expect(left.rowCount).toBe(0);
  });

  it('leaves the database empty with migrate: false', async () => {
    const db = await createTestDatabase({ migrate: false });
    try {
      expect(await readLedger(db.url)).toEqual([]);
    } finally {
      await db.close();
    }
  });
});
