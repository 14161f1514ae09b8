import { describe, expect, it } from 'vitest';
import { formatFinding, lintMigrations, lintSql, type LintRule } from '../../tools/migrations/index.js';
import { parseMigration } from '../../tools/migrations/migration-file.js';
import { migrationText } from './support/fixture-migrations.js';

function rules(sql: string): LintRule[] {
  return lintSql(sql).map((v) => v.rule);
}

describe('migrations:lint', () => {
  it('finds no undeclared destructive statement in the repository migrations', () => {
    const findings = lintMigrations();
    expect(findings.map(formatFinding)).toEqual([]);
  });

  it.each<[LintRule, string]>([
    ['drop-table', 'DROP TABLE widget'],
    ['drop-table', 'drop table if exists widget cascade'],
    ['drop-column', 'ALTER TABLE widget DROP COLUMN color'],
    ['drop-column', 'ALTER TABLE widget DROP color'],
    ['drop-column', 'ALTER TABLE widget ADD COLUMN a text, DROP COLUMN IF EXISTS b'],
    ['rename', 'ALTER TABLE widget RENAME TO gizmo'],
    ['rename', 'ALTER TABLE widget RENAME COLUMN color TO colour'],
    ['rename', 'ALTER INDEX widget_idx RENAME TO widget_name_idx'],
    ['alter-column-type', 'ALTER TABLE widget ALTER COLUMN size TYPE bigint'],
    ['alter-column-type', 'ALTER TABLE widget ALTER size SET DATA TYPE text USING size::text'],
    ['set-not-null', 'ALTER TABLE widget ALTER COLUMN color SET NOT NULL'],
    ['add-not-null-column', 'ALTER TABLE widget ADD COLUMN owner text NOT NULL'],
    ['drop-default', 'ALTER TABLE widget ALTER COLUMN color DROP DEFAULT'],
    ['drop-constraint', 'ALTER TABLE widget DROP CONSTRAINT widget_size_check'],
    ['drop-index', 'DROP INDEX widget_idx'],
    ['drop-index', 'DROP INDEX CONCURRENTLY IF EXISTS widget_idx'],
    ['drop-object', 'DROP VIEW widget_view'],
    ['drop-object', 'DROP FUNCTION widget_fn()'],
    ['drop-object', 'DROP TYPE widget_kind'],
    ['truncate', 'TRUNCATE widget'],
    ['delete-without-where', 'DELETE FROM widget'],
  ])('flags %s: %s', (rule, sql) => {
    expect(rules(sql)).toContain(rule);
  });

  it.each([
    'CREATE TABLE widget (id text PRIMARY KEY, name text NOT NULL)',
    "ALTER TABLE widget ADD COLUMN color text DEFAULT 'red'",
    'ALTER TABLE widget ADD COLUMN size integer NOT NULL DEFAULT 0',
    'ALTER TABLE widget ALTER COLUMN color DROP NOT NULL',
    'ALTER TABLE widget ALTER COLUMN color SET DEFAULT 1',
    'CREATE INDEX widget_idx ON widget (name)',
    "DELETE FROM widget WHERE name = 'obsolete'",
    "INSERT INTO note (body) VALUES ('DROP TABLE widget; TRUNCATE widget')",
    '-- DROP TABLE widget\nSELECT 1',
    'ALTER TABLE widget ADD CONSTRAINT widget_name_not_null CHECK (name IS NOT NULL) NOT VALID',
  ])('does not flag an additive or guarded statement: %s', (sql) => {
    expect(rules(sql)).toEqual([]);
  });

  it('accepts SET NOT NULL when the same migration gives the column a default', () => {
    expect(rules("ALTER TABLE widget ALTER COLUMN color SET DEFAULT 'red';\nUPDATE widget SET color = 'red' WHERE color IS NULL;\nALTER TABLE widget ALTER COLUMN color SET NOT NULL;")).toEqual([]);
  });

  it('looks inside DO blocks, which run their body', () => {
    expect(rules('DO $$ BEGIN EXECUTE \'x\'; DROP TABLE widget; END $$')).toContain('drop-table');
  });

  it('flags a destructive up part only when the migration is not declared breaking', () => {
    const spec = { name: '0002_drop_color', up: 'ALTER TABLE widget DROP COLUMN color;', down: 'ALTER TABLE widget ADD COLUMN color text;' };
    const undeclared = parseMigration('0002_drop_color.sql', spec.name, migrationText(spec));
    const declared = parseMigration('0002_drop_color.sql', spec.name, migrationText({ ...spec, breaking: true }));
    const findings = lintMigrations([undeclared, declared]);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ migration: '0002_drop_color', rule: 'drop-column' });
    expect(formatFinding(findings[0] ?? expect.fail('no finding'))).toMatch(/declare "-- breaking: true"/);
  });

  it('ignores the down part, which undoes the up part by dropping things', () => {
    const spec = { name: '0001_widget', up: 'CREATE TABLE widget (id text);', down: 'DROP TABLE widget;' };
    expect(lintMigrations([parseMigration('f.sql', spec.name, migrationText(spec))])).toEqual([]);
  });
});
