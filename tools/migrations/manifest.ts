import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { UsageError } from '../cli/index.js';
import { loadMigrations } from './load-migrations.js';
import { MIGRATION_NAME_PATTERN } from './migration-file.js';

/** Where the Docker image carries its build's manifest (written by `npm run migrations:manifest -- --out ...`). */
export const IMAGE_MANIFEST_PATH = '/app/migrations-manifest.json';

/** The ordered list of migration names one build contains. */
export interface Manifest {
  version: 1;
  migrations: string[];
}

const namesSchema = z
  .array(z.string().regex(MIGRATION_NAME_PATTERN, 'is not a migration name (NNNN_snake_case_name)'))
  .refine((names) => new Set(names).size === names.length, 'lists a migration twice');

// The written form is the object; a plain array is accepted too, so hand-written manifests stay easy.
const manifestSchema = z.union([
  z.object({ version: z.literal(1), migrations: namesSchema }).strict(),
  namesSchema,
]);

/** The manifest of the build whose migrations live in `dir` (default: the repository's). */
export function buildManifest(dir?: string): Manifest {
  return { version: 1, migrations: loadMigrations(dir).map((m) => m.name) };
}

/** The manifest as written to disk: pretty JSON with a trailing newline. */
export function serializeManifest(manifest: Manifest): string {
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

/**
 * Parses manifest text in either accepted format; `null` when the text is empty (whitespace only), which callers read
 * as "no build deployed yet".
 */
export function parseManifest(text: string, source: string): string[] | null {
  if (text.trim() === '') return null;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UsageError(`${source} is not JSON; expected {"version":1,"migrations":[...]} or a JSON array of migration names`);
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${source} is not a migration manifest (${issue?.message ?? 'invalid'}); expected {"version":1,"migrations":[...]} or a JSON array of migration names`);
  }
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.migrations;
}

/** Reads manifest text from a file, or from stdin when `source` is `-`; `null` when the file does not exist. */
export async function readManifestText(source: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string | null> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    if (typeof error === 'object' && error !== null && 'code' in error && error.code === 'ENOENT') return null;
    throw new UsageError(`cannot read manifest ${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Reads and parses a manifest from a file or `-`; `null` when it is missing or empty. */
export async function loadManifest(source: string, stdin?: NodeJS.ReadableStream): Promise<string[] | null> {
  const text = await readManifestText(source, stdin);
  if (text === null) return null;
  return parseManifest(text, source === '-' ? 'the manifest on stdin' : source);
}
