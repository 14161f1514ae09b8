import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../cli/index.js';
import { MIGRATION_NAME_PATTERN, parseMigration, type Migration } from './migration-file.js';

/** The repository's `migrations/` directory (also `/app/migrations` inside the image). */
export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('../../migrations/', import.meta.url));

/** Reads, parses and validates every `NNNN_name.sql` file of `dir`, ordered by number. */
export function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  const root = resolve(dir);
  let entries: string[];
  try {
    if (!statSync(root).isDirectory()) throw new Error('not a directory');
    entries = readdirSync(root);
  } catch {
    throw new UsageError(`migrations directory ${root} does not exist; pass an existing migrationsDir`);
  }
  const migrations: Migration[] = [];
  for (const entry of entries.filter((e) => e.endsWith('.sql')).sort()) {
    const name = basename(entry, '.sql');
    const file = join(root, entry);
    if (!MIGRATION_NAME_PATTERN.test(name)) {
      throw new UsageError(`${file}: file name must be NNNN_snake_case_name.sql (four digits, lower-case words)`);
    }
    migrations.push(parseMigration(file, name, readFileSync(file, 'utf8')));
  }
  for (let i = 1; i < migrations.length; i++) {
    const previous = migrations[i - 1];
    const current = migrations[i];
    if (previous && current && previous.number === current.number) {
      throw new UsageError(`${current.file}: number ${String(current.number).padStart(4, '0')} is also used by ${previous.file}; renumber one of them`);
    }
  }
  return migrations;
}
