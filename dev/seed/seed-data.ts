import { createHash, randomBytes } from 'node:crypto';
import { sign } from 'hono/jwt';
import type pg from 'pg';

/** A random id with a readable prefix, e.g. `plat_9f2c4a1b7e3d5a60`. */
export function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/**
 * Creates a platform with its plan row (or leaves an existing one, resetting nothing); returns its id. `canary: true`
 * pins it into the cohort (an explicit choice); otherwise it follows the rollout (none by default).
 */
export async function seedPlatform(pool: pg.Pool, options: { id?: string; name?: string; canary?: boolean } = {}): Promise<string> {
  const id = options.id ?? randomId('plat');
  const pinned = options.canary ?? false;
  await pool.query('INSERT INTO platform (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [id, options.name ?? id]);
  await pool.query('INSERT INTO platform_plan (platform_id, canary, canary_explicit) VALUES ($1, $2, $2) ON CONFLICT (platform_id) DO NOTHING', [id, pinned]);
  return id;
}

/** Many platforms at once (bench cohorts), pinned in when `canary`: one statement per table, whatever the count. */
export async function seedPlatformsBulk(pool: pg.Pool, ids: readonly string[], canary: boolean): Promise<void> {
  await pool.query('INSERT INTO platform (id, name) SELECT id, id FROM unnest($1::text[]) id ON CONFLICT (id) DO NOTHING', [[...ids]]);
  await pool.query('INSERT INTO platform_plan (platform_id, canary, canary_explicit) SELECT id, $2, $2 FROM unnest($1::text[]) id ON CONFLICT (platform_id) DO NOTHING', [
    [...ids],
    canary,
  ]);
}

/**
 * Replaces the platforms `<prefix>1` .. `<prefix><count>` (ids zero-padded to `pad` digits when given) with `count`
 * fresh ones of the given membership, in two statements whatever the count (bench and test cohorts of 100,000).
 */
export async function seedPlatformRange(pool: pg.Pool, options: { prefix: string; count: number; canary: boolean; pad?: number }): Promise<void> {
  const like = `${options.prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  await pool.query('DELETE FROM platform_plan WHERE platform_id LIKE $1', [like]);
  await pool.query('DELETE FROM platform WHERE id LIKE $1', [like]);
  if (options.count <= 0) return;
  const id = options.pad === undefined ? `$1::text || g` : `$1::text || lpad(g::text, ${Math.trunc(options.pad)}, '0')`;
  await pool.query(`INSERT INTO platform (id, name) SELECT ${id}, ${id} FROM generate_series(1, $2::int) g`, [options.prefix, options.count]);
  await pool.query(`INSERT INTO platform_plan (platform_id, canary, canary_explicit) SELECT ${id}, $3, $3 FROM generate_series(1, $2::int) g`, [
    options.prefix,
    options.count,
    options.canary,
  ]);
}

/** A flow (in a project of the platform, created unless `projectId` names an existing one). */
export interface SeededFlow {
  flowId: string;
  projectId: string;
}

/**
 * Creates a flow of the platform; `definition` null or omitted means "echo the payload". An existing flow of that id
 * gets the given definition (so `npm start` can re-seed its demo flows).
 */
export async function seedFlow(
  pool: pg.Pool,
  platformId: string,
  options: { id?: string; projectId?: string; definition?: unknown } = {},
): Promise<SeededFlow> {
  const projectId = options.projectId ?? randomId('proj');
  const flowId = options.id ?? randomId('flow');
  await pool.query('INSERT INTO project (id, platform_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [projectId, platformId]);
  const definition = options.definition === undefined || options.definition === null ? null : JSON.stringify(options.definition);
  await pool.query(
    'INSERT INTO flow (id, project_id, definition) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition',
    [flowId, projectId, definition],
  );
  return { flowId, projectId };
}

/** Creates a platform API key (`sk-` + 48 hex digits); returns the key, whose SHA-256 the database keeps. */
export async function seedApiKey(pool: pg.Pool, platformId: string): Promise<string> {
  const key = `sk-${randomBytes(24).toString('hex')}`;
  const hashed = createHash('sha256').update(key).digest('hex');
  await pool.query('INSERT INTO api_key (id, platform_id, hashed_value) VALUES ($1, $2, $3)', [randomId('key'), platformId, hashed]);
  return key;
}

/** Principal types of Activepieces JWTs; WORKER is not a principal (tests use it to prove it is refused). */
export type PrincipalType = 'USER' | 'SERVICE' | 'ENGINE' | 'WORKER';

/** Signs an Activepieces-style principal JWT (HS256) for a platform; valid for an hour unless told otherwise. */
export function signPrincipalJwt(
  secret: string,
  platformId: string,
  options: { type?: PrincipalType; expiresInSeconds?: number; id?: string } = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return sign(
    {
      id: options.id ?? randomId('user'),
      type: options.type ?? 'USER',
      projectId: `project-${platformId}`,
      platform: { id: platformId },
      iat: now,
      exp: now + (options.expiresInSeconds ?? 3600),
    },
    secret,
    'HS256',
  );
}
