import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMigrations, parseMigration, UsageError } from '../../tools/migrations/index.js';
import { migrationText, writeMigrationsDir } from './support/fixture-migrations.js';

const VALID = migrationText({ name: '0001_thing', up: 'CREATE TABLE thing (id text);', down: 'DROP TABLE thing;' });

describe('loadMigrations', () => {
  let cleanup: (() => void) | undefined;
  afterEach(() => cleanup?.());

  it('parses the header, both parts and a checksum', () => {
    const migration = parseMigration('0001_thing.sql', '0001_thing', VALID);
    expect(migration).toMatchObject({
      name: '0001_thing',
      number: 1,
      release: '0.1.0',
      breaking: false,
      up: 'CREATE TABLE thing (id text);',
      down: 'DROP TABLE thing;',
    });
    expect(migration.checksum).toMatch(/^[0-9a-f]{64}$/);
  });

  it('gives the same checksum whatever the line endings', () => {
    const lf = parseMigration('f.sql', '0001_thing', VALID);
    const crlf = parseMigration('f.sql', '0001_thing', VALID.replace(/\n/g, '\r\n'));
    expect(crlf.checksum).toBe(lf.checksum);
  });

  it('accepts free-text comments in the header', () => {
    const text = VALID.replace('-- +up', '-- Why: things need a table.\n-- +up');
    expect(parseMigration('f.sql', '0001_thing', text).name).toBe('0001_thing');
  });

  it.each([
    ['a header name that differs from the file name', VALID.replace('0001_thing', '0001_other'), /does not match the file name/],
    ['a missing release', VALID.replace('-- release: 0.1.0\n', ''), /release/],
    ['a breaking flag that is not true or false', VALID.replace('breaking: false', 'breaking: maybe'), /breaking/],
    ['a missing up marker', VALID.replace('-- +up\n', ''), /"-- \+up"/],
    ['a missing down marker', VALID.replace('-- +down\n', ''), /"-- \+down"/],
    ['an empty up part', VALID.replace('CREATE TABLE thing (id text);', '-- nothing'), /"-- \+up" section has no SQL/],
    ['an empty down part', VALID.replace('DROP TABLE thing;', ''), /"-- \+down" section has no SQL/],
    ['SQL before the up marker', `SELECT 1;\n${VALID}`, /SQL before/],
    ['down before up', VALID.replace('-- +up', '-- +tmp').replace('-- +down', '-- +up').replace('-- +tmp', '-- +down'), /must come after/],
  ])('rejects %s, naming the file', (_case, text, message) => {
    expect(() => parseMigration('/x/0001_thing.sql', '0001_thing', text)).toThrow(UsageError);
    expect(() => parseMigration('/x/0001_thing.sql', '0001_thing', text)).toThrow(message);
    expect(() => parseMigration('/x/0001_thing.sql', '0001_thing', text)).toThrow('/x/0001_thing.sql');
  });

  it('orders migrations by number', () => {
    const fixture = writeMigrationsDir([
      { name: '0002_b', up: 'SELECT 2;', down: 'SELECT 2;' },
      { name: '0001_a', up: 'SELECT 1;', down: 'SELECT 1;' },
    ]);
    cleanup = fixture.remove;
    expect(loadMigrations(fixture.dir).map((m) => m.name)).toEqual(['0001_a', '0002_b']);
  });

  it('rejects two migrations with the same number', () => {
    const fixture = writeMigrationsDir([
      { name: '0001_a', up: 'SELECT 1;', down: 'SELECT 1;' },
      { name: '0001_b', up: 'SELECT 1;', down: 'SELECT 1;' },
    ]);
    cleanup = fixture.remove;
    expect(() => loadMigrations(fixture.dir)).toThrow(/0001 is also used by/);
  });

  it('rejects a .sql file whose name is not NNNN_snake_name', () => {
    const fixture = writeMigrationsDir([]);
    cleanup = fixture.remove;
    writeFileSync(join(fixture.dir, 'add-thing.sql'), VALID);
    expect(() => loadMigrations(fixture.dir)).toThrow(/add-thing\.sql: file name must be NNNN_snake_case_name\.sql/);
  });

  it('rejects a directory that does not exist', () => {
    expect(() => loadMigrations('/nonexistent/migrations')).toThrow(/does not exist/);
  });

  it('loads the repository migrations, starting with the initial schema', () => {
    const names = loadMigrations().map((m) => m.name);
    expect(names[0]).toBe('0001_initial_schema');
  });
});
