import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { maintenanceUrl, withClient } from '../../tools/migrations/database.js';
import { readLedger } from '../../tools/migrations/index.js';
import { testServerUrl } from '../../testkit/test-database.js';
import { runMigrationsCli } from './support/cli.js';
import { CHAIN, manifestOf, prefix, writeMigrationsDir, type MigrationSpec } from './support/fixture-migrations.js';

describe('migrations CLIs', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  function dir(specs: readonly MigrationSpec[]): string {
    const fixture = writeMigrationsDir(specs);
    cleanups.push(fixture.remove);
    return fixture.dir;
  }
  const withBreaking = (...names: string[]) => CHAIN.map((spec) => ({ ...spec, breaking: names.includes(spec.name) }));

  describe('migrations:check', () => {
    it('exits 0 when the new migrations are all additive', async () => {
      const result = await runMigrationsCli('cli-check.ts', ['--running-manifest', '-', '--migrations-dir', dir(CHAIN)], { stdin: manifestOf(prefix(CHAIN, 3)) });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/ok: 2 new migration\(s\), none breaking: 0004_widget_size, 0005_gadget_label/);
    });

    it('exits 3 naming each breaking migration absent from the running manifest', async () => {
      const build = dir(withBreaking('0002_widget_color', '0004_widget_size', '0005_gadget_label'));
      const running = join(build, 'running.json');
      writeFileSync(running, JSON.stringify(prefix(CHAIN, 3).map((s) => s.name)));
      const result = await runMigrationsCli('cli-check.ts', ['--running-manifest', running, '--migrations-dir', build]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/refusing to deploy: 2 breaking migration/);
      expect(result.stderr).toMatch(/- 0004_widget_size/);
      expect(result.stderr).toMatch(/- 0005_gadget_label/);
      expect(result.stderr).not.toMatch(/0002_widget_color/);
    });

    it('has no override flag', async () => {
      const result = await runMigrationsCli('cli-check.ts', ['--running-manifest', '-', '--force', '--migrations-dir', dir(withBreaking('0005_gadget_label'))], { stdin: '[]' });
      expect(result.code).toBe(2);
    });

    it.each([
      ['an empty stdin', ['--running-manifest', '-'], ''],
      ['an empty list', ['--running-manifest', '-'], '{"version":1,"migrations":[]}'],
      ['a missing file', ['--running-manifest', '/nonexistent/running.json'], ''],
    ])('exits 0 saying "nothing deployed yet" for %s, even with breaking migrations', async (_case, args, stdin) => {
      const result = await runMigrationsCli('cli-check.ts', [...args, '--migrations-dir', dir(withBreaking('0001_widget'))], { stdin });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/nothing deployed yet/);
    });

    it('exits 2 on a manifest that is not JSON', async () => {
      const result = await runMigrationsCli('cli-check.ts', ['--running-manifest', '-'], { stdin: 'garbage' });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/the manifest on stdin is not JSON/);
    });
  });

  describe('migrations:manifest', () => {
    it('prints the manifest to stdout', async () => {
      const result = await runMigrationsCli('cli-manifest.ts', ['--migrations-dir', dir(prefix(CHAIN, 2))]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({ version: 1, migrations: ['0001_widget', '0002_widget_color'] });
    });

    it('writes --out, creating its directory', async () => {
      const out = join(dir([]), 'app', 'migrations-manifest.json');
      const result = await runMigrationsCli('cli-manifest.ts', ['--out', out]);
      expect(result.code).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toMatchObject({ version: 1, migrations: expect.arrayContaining(['0001_initial_schema']) });
    });
  });

  describe('migrations:lint', () => {
    it('exits 0 on the repository migrations', async () => {
      expect((await runMigrationsCli('cli-lint.ts', [])).code).toBe(0);
    });

    it('exits 3 naming an undeclared destructive migration and the fix', async () => {
      const build = dir([...prefix(CHAIN, 2), { name: '0003_drop_color', up: 'ALTER TABLE widget DROP COLUMN color;', down: 'ALTER TABLE widget ADD COLUMN color text;' }]);
      const result = await runMigrationsCli('cli-lint.ts', ['--migrations-dir', build]);
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(/0003_drop_color\.sql: drop-column/);
      expect(result.stderr).toMatch(/declare "-- breaking: true" in 0003_drop_color/);
    });

    it('exits 2 naming a malformed migration file', async () => {
      const build = dir(prefix(CHAIN, 1));
      writeFileSync(join(build, '0002_broken.sql'), '-- name: 0002_broken\n-- +up\nSELECT 1;\n');
      const result = await runMigrationsCli('cli-lint.ts', ['--migrations-dir', build]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/0002_broken\.sql: missing the "-- \+down" marker/);
    });
  });

  describe('db:migrate', () => {
    it('creates the AP_POSTGRES_URL database when missing and prints what it applied', async () => {
      const url = new URL(testServerUrl());
      const name = `ce_test_${randomBytes(6).toString('hex')}`;
      url.pathname = `/${name}`;
      cleanups.push(() => withClient(maintenanceUrl(url.toString()), async (admin) => {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      }));
      const env = { AP_POSTGRES_URL: url.toString() };
      const build = dir(prefix(CHAIN, 2));
      const first = await runMigrationsCli('cli-migrate.ts', ['--migrations-dir', build], { env });
      expect(first.code).toBe(0);
      expect(first.stdout).toMatch(/applied 0001_widget\napplied 0002_widget_color\n/);
      expect((await readLedger(url.toString())).map((e) => e.name)).toEqual(['0001_widget', '0002_widget_color']);
      const second = await runMigrationsCli('cli-migrate.ts', ['--migrations-dir', build], { env });
      expect(second.stdout).toMatch(/is up to date; nothing applied/);
      const behind = await runMigrationsCli('cli-migrate.ts', ['--migrations-dir', dir(prefix(CHAIN, 1))], { env });
      expect(behind.code).toBe(4);
      expect(behind.stderr).toMatch(/0002_widget_color is applied but not in this build/);
    });
  });
});
