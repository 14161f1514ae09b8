import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface MigrationSpec {
  name: string;
  up: string;
  down: string;
  breaking?: boolean;
  release?: string;
}

/** Renders a migration file in the repository's format. */
export function migrationText(spec: MigrationSpec): string {
  return [
    `-- name: ${spec.name}`,
    `-- release: ${spec.release ?? '0.1.0'}`,
    `-- breaking: ${spec.breaking ? 'true' : 'false'}`,
    '-- +up',
    spec.up,
    '-- +down',
    spec.down,
    '',
  ].join('\n');
}

/** A temporary migrations directory holding `specs`; `remove()` it when done. */
export function writeMigrationsDir(specs: readonly MigrationSpec[]): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'ce-migrations-'));
  for (const spec of specs) writeFileSync(join(dir, `${spec.name}.sql`), migrationText(spec));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Five small migrations of the shapes real ones take (tables, columns, indexes, constraints). */
export const CHAIN: readonly MigrationSpec[] = [
  {
    name: '0001_widget',
    up: 'CREATE TABLE widget (id text PRIMARY KEY, name text NOT NULL);',
    down: 'DROP TABLE widget;',
  },
  {
    name: '0002_widget_color',
    up: "ALTER TABLE widget ADD COLUMN color text DEFAULT 'red';",
    down: 'ALTER TABLE widget DROP COLUMN color;',
  },
  {
    name: '0003_gadget',
    up: 'CREATE TABLE gadget (id text PRIMARY KEY, widget_id text REFERENCES widget (id));\nCREATE INDEX gadget_widget_id_idx ON gadget (widget_id);',
    down: 'DROP TABLE gadget;',
  },
  {
    name: '0004_widget_size',
    up: 'ALTER TABLE widget ADD COLUMN size integer NOT NULL DEFAULT 0;\nALTER TABLE widget ADD CONSTRAINT widget_size_check CHECK (size >= 0);',
    down: 'ALTER TABLE widget DROP CONSTRAINT widget_size_check;\nALTER TABLE widget DROP COLUMN size;',
  },
  {
    name: '0005_gadget_label',
    up: 'ALTER TABLE gadget ADD COLUMN label text;\nCREATE UNIQUE INDEX gadget_label_idx ON gadget (label);',
    down: 'DROP INDEX gadget_label_idx;\nALTER TABLE gadget DROP COLUMN label;',
  },
];

/** The first `count` migrations of `specs`. */
export function prefix(specs: readonly MigrationSpec[], count: number): MigrationSpec[] {
  return specs.slice(0, count);
}

/** A manifest document listing `specs`. */
export function manifestOf(specs: readonly MigrationSpec[]): string {
  return JSON.stringify({ version: 1, migrations: specs.map((s) => s.name) });
}
