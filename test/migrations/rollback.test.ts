import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, migrateUp, readLedger, rollback } from '../../tools/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../../testkit/test-database.js';
import { runMigrationsCli } from './support/cli.js';
import { CHAIN, manifestOf, prefix, writeMigrationsDir, type MigrationSpec } from './support/fixture-migrations.js';
import { dumpSchema } from './support/schema-dump.js';

// Acceptance of issue 4's rollback: real Postgres, a fresh database per case, the CLI as a real child process.
describe('migrations:rollback', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A fresh database with `specs` applied. */
  async function databaseWith(specs: readonly MigrationSpec[]): Promise<TestDatabase> {
    const fixture = writeMigrationsDir(specs);
    cleanups.push(fixture.remove);
    const db = await createTestDatabase({ migrationsDir: fixture.dir });
    cleanups.push(() => db.close());
    return db;
  }

  /** A manifest file for `specs`. */
  function manifestFile(specs: readonly MigrationSpec[]): string {
    const fixture = writeMigrationsDir([]);
    cleanups.push(fixture.remove);
    const file = join(fixture.dir, 'manifest.json');
    writeFileSync(file, manifestOf(specs));
    return file;
  }

  function rollbackCli(db: TestDatabase, args: string[], stdin?: string) {
    return runMigrationsCli('cli-rollback.ts', args, { env: { AP_POSTGRES_URL: db.url }, stdin });
  }

  it('rolls N migrations back to the manifest of N-2: schema and ledger equal a fresh apply of N-2', async () => {
    const db = await databaseWith(CHAIN);
    const reference = await databaseWith(prefix(CHAIN, 3));
    const result = await rollbackCli(db, ['--manifest', manifestFile(prefix(CHAIN, 3))]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/undid 0005_gadget_label[\s\S]*undid 0004_widget_size/);
    expect(await dumpSchema(db.url)).toEqual(await dumpSchema(reference.url));
  });

  it('reads the target manifest from stdin with "-" and does nothing on a second run', async () => {
    const db = await databaseWith(CHAIN);
    const first = await rollbackCli(db, ['--manifest', '-'], manifestOf(prefix(CHAIN, 4)));
    expect(first.code).toBe(0);
    expect((await readLedger(db.url)).map((e) => e.name)).toEqual(prefix(CHAIN, 4).map((s) => s.name));
    const before = await dumpSchema(db.url);
    const second = await rollbackCli(db, ['--manifest', '-'], manifestOf(prefix(CHAIN, 4)));
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/nothing to roll back/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('prints the plan and changes nothing with --dry-run', async () => {
    const db = await databaseWith(CHAIN);
    const before = await dumpSchema(db.url);
    const result = await rollbackCli(db, ['--manifest', manifestFile(prefix(CHAIN, 2)), '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/dry run, nothing changed; would undo \(newest first\): 0005_gadget_label, 0004_widget_size, 0003_gadget/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('refuses a breaking migration without --force and changes nothing', async () => {
    const chain = CHAIN.map((spec) => (spec.name === '0004_widget_size' ? { ...spec, breaking: true } : spec));
    const db = await databaseWith(chain);
    const before = await dumpSchema(db.url);
    const result = await rollbackCli(db, ['--manifest', manifestFile(prefix(chain, 3))]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/changed: 0004_widget_size is breaking[\s\S]*--force/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('undoes a breaking migration with --force', async () => {
    const chain = CHAIN.map((spec) => (spec.name === '0004_widget_size' ? { ...spec, breaking: true } : spec));
    const db = await databaseWith(chain);
    const reference = await databaseWith(prefix(chain, 3));
    const result = await rollbackCli(db, ['--manifest', manifestFile(prefix(chain, 3)), '--force']);
    expect(result.code).toBe(0);
    expect(await dumpSchema(db.url)).toEqual(await dumpSchema(reference.url));
  });

  it('aborts with nothing changed when the target skips a middle migration', async () => {
    const db = await databaseWith(CHAIN);
    const before = await dumpSchema(db.url);
    const target = CHAIN.filter((spec) => spec.name !== '0003_gadget');
    const result = await rollbackCli(db, ['--manifest', manifestFile(target), '--force']);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(/not the most recent ones; 0004_widget_size, 0005_gadget_label were applied after them/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('stops at a failing down migration, rolls that step back and leaves schema and ledger consistent', async () => {
    const failing: MigrationSpec = {
      name: '0006_gizmo',
      up: 'CREATE TABLE gizmo (id text PRIMARY KEY);\nCREATE INDEX gizmo_id_idx ON gizmo (id);',
      // The first statement succeeds and must be undone with the rest of the step.
      down: 'DROP INDEX gizmo_id_idx;\nDROP TABLE no_such_table;\nDROP TABLE gizmo;',
    };
    const chain = [...CHAIN, failing, { name: '0007_gizmo_name', up: 'ALTER TABLE gizmo ADD COLUMN name text;', down: 'ALTER TABLE gizmo DROP COLUMN name;' }];
    const db = await databaseWith(chain);
    const reference = await databaseWith(prefix(chain, 6));
    const result = await rollbackCli(db, ['--manifest', manifestFile(prefix(chain, 4))]);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/undid 0007_gizmo_name/);
    expect(result.stderr).toMatch(/down migration 0006_gizmo failed and was rolled back: table "no_such_table" does not exist/);
    expect(await dumpSchema(db.url)).toEqual(await dumpSchema(reference.url));
  });

  it('undoes a down migration together with its ledger delete: if the delete fails, the down is rolled back too', async () => {
    const pinned: MigrationSpec = {
      name: '0006_pinned',
      up: "CREATE TABLE pinned (id text);\nCREATE FUNCTION refuse_ledger_delete() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'ledger row pinned'; END $$;",
      // The down itself succeeds, then makes the ledger delete of the same step fail.
      down: 'DROP TABLE pinned;\nCREATE TRIGGER pin_ledger BEFORE DELETE ON schema_migrations FOR EACH ROW EXECUTE FUNCTION refuse_ledger_delete();',
    };
    const db = await databaseWith([...CHAIN, pinned]);
    const before = await dumpSchema(db.url);
    const result = await rollbackCli(db, ['--manifest', manifestFile(CHAIN)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/down migration 0006_pinned failed and was rolled back: ledger row pinned/);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('refuses an empty or missing target manifest rather than undoing everything', async () => {
    const db = await databaseWith(prefix(CHAIN, 2));
    const before = await dumpSchema(db.url);
    expect((await rollbackCli(db, ['--manifest', '-'], '')).code).toBe(2);
    expect((await rollbackCli(db, ['--manifest', '/nonexistent/manifest.json'])).code).toBe(2);
    expect(await dumpSchema(db.url)).toEqual(before);
  });

  it('rejects unknown flags with a usage error', async () => {
    const db = await databaseWith(prefix(CHAIN, 1));
    const result = await rollbackCli(db, ['--manifest', '-', '--yolo'], manifestOf(CHAIN));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage: npm run migrations:rollback/);
  });

  it('undoes every repository migration step by step back to the initial schema', async () => {
    // Guards the down parts other engineers write: each must restore exactly the schema before its up.
    const db = await createTestDatabase();
    cleanups.push(() => db.close());
    const repo = loadMigrations();
    for (let count = repo.length - 1; count >= 1; count--) {
      const specs = repo.slice(0, count).map((m) => ({ name: m.name, up: m.up, down: m.down, breaking: m.breaking, release: m.release }));
      const reference = await databaseWith(specs);
      const result = await rollback(db.url, { target: specs.map((s) => s.name), force: true });
      expect(result.failure).toBeUndefined();
      const [actual, expected] = await Promise.all([dumpSchema(db.url), dumpSchema(reference.url)]);
      // Checksums differ (fixture files are rewritten), so compare the ledger by name and order only.
      expect({ ...actual, ledger: names(actual.ledger) }).toEqual({ ...expected, ledger: names(expected.ledger) });
    }
    await migrateUp(db.url);
  });
});

function names(ledger: unknown[] | undefined): string[] {
  return (ledger ?? []).map((row) => (row as { name: string }).name);
}
