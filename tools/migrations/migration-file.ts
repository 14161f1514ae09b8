import { createHash } from 'node:crypto';
import { z } from 'zod';
import { UsageError } from '../cli/index.js';
import { hasStatements } from './sql-text.js';

/** One parsed migration file. */
export interface Migration {
  /** File name without `.sql`, e.g. `0001_initial_schema`; the ledger key. */
  name: string;
  /** The `NNNN` prefix as a number; files apply in this order. */
  number: number;
  /** Release (package version) that added the migration. */
  release: string;
  /** True when an older build cannot run against the schema after `up` (see the lint). */
  breaking: boolean;
  up: string;
  down: string;
  /** sha256 of the file (line endings normalized); an applied migration must never change. */
  checksum: string;
  /** Path the migration was read from, for error messages. */
  file: string;
}

export const MIGRATION_NAME_PATTERN = /^(\d{4})_[a-z0-9]+(?:_[a-z0-9]+)*$/;

const headerSchema = z.object({
  name: z.string().regex(MIGRATION_NAME_PATTERN, 'must look like NNNN_snake_case_name'),
  release: z.string().regex(/^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$/, 'must be a semver version such as 0.1.0'),
  breaking: z.enum(['true', 'false'], { error: 'must be true or false' }),
});

const HEADER_LINE = /^--\s*(name|release|breaking)\s*:\s*(.*?)\s*$/;
const UP_MARKER = /^--\s*\+up\s*$/;
const DOWN_MARKER = /^--\s*\+down\s*$/;

/** Parses and validates one migration file; `expectedName` is the file name without `.sql`. */
export function parseMigration(file: string, expectedName: string, text: string): Migration {
  const fail = (problem: string): never => {
    throw new UsageError(`${file}: ${problem}. Expected the header "-- name:", "-- release:", "-- breaking:" then "-- +up" and "-- +down" sections (see docs/delivery-runbook.md).`);
  };
  const normalized = text.replace(/\r\n?/g, '\n');
  const lines = normalized.split('\n');
  const upAt = lines.findIndex((line) => UP_MARKER.test(line.trim()));
  const downAt = lines.findIndex((line) => DOWN_MARKER.test(line.trim()));
  if (upAt === -1) fail('missing the "-- +up" marker');
  if (downAt === -1) fail('missing the "-- +down" marker');
  if (lines.filter((line) => UP_MARKER.test(line.trim())).length > 1) fail('more than one "-- +up" marker');
  if (lines.filter((line) => DOWN_MARKER.test(line.trim())).length > 1) fail('more than one "-- +down" marker');
  if (downAt < upAt) fail('"-- +down" must come after "-- +up"');

  const header: Record<string, string> = {};
  for (const raw of lines.slice(0, upAt)) {
    const line = raw.trim();
    if (line === '') continue;
    if (!line.startsWith('--')) fail(`SQL before "-- +up" ("${line}")`);
    const match = HEADER_LINE.exec(line);
    if (!match) continue; // free-text comment explaining the migration
    const [, key = '', value = ''] = match;
    if (key in header) fail(`duplicate header field "${key}"`);
    header[key] = value;
  }
  const parsed = headerSchema.safeParse(header);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `"${issue.path.join('.')}" ${issue.message}`).join('; ');
    fail(`invalid header: ${issues}`);
  }
  const fields = parsed.data ?? fail('invalid header');
  if (fields.name !== expectedName) fail(`header name "${fields.name}" does not match the file name "${expectedName}"`);

  const up = lines.slice(upAt + 1, downAt).join('\n').trim();
  const down = lines.slice(downAt + 1).join('\n').trim();
  if (!hasStatements(up)) fail('the "-- +up" section has no SQL');
  if (!hasStatements(down)) fail('the "-- +down" section has no SQL (write the statements that undo "up")');

  const number = Number(MIGRATION_NAME_PATTERN.exec(fields.name)?.[1]);
  return {
    name: fields.name,
    number,
    release: fields.release,
    breaking: fields.breaking === 'true',
    up,
    down,
    checksum: createHash('sha256').update(normalized).digest('hex'),
    file,
  };
}
