import { sign } from 'hono/jwt';
import type pg from 'pg';

/** A seeded platform with one project and one flow. */
export interface SeededPlatform {
  platformId: string;
  projectId: string;
  flowId: string;
  canary: boolean;
}

function rid(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

/** Inserts platforms (with plan, project and flow) with random ids; `definition` null means "echo the payload". */
export async function seedPlatforms(
  pool: pg.Pool,
  specs: readonly { canary: boolean; definition?: unknown }[],
): Promise<SeededPlatform[]> {
  const seeded: SeededPlatform[] = [];
  for (const spec of specs) {
    const p: SeededPlatform = { platformId: rid('plat'), projectId: rid('proj'), flowId: rid('flow'), canary: spec.canary };
    await pool.query('INSERT INTO platform (id, name) VALUES ($1, $1)', [p.platformId]);
    await pool.query('INSERT INTO platform_plan (platform_id, canary) VALUES ($1, $2)', [p.platformId, spec.canary]);
    await pool.query('INSERT INTO project (id, platform_id) VALUES ($1, $2)', [p.projectId, p.platformId]);
    await pool.query('INSERT INTO flow (id, project_id, definition) VALUES ($1, $2, $3)', [
      p.flowId,
      p.projectId,
      spec.definition === undefined || spec.definition === null ? null : JSON.stringify(spec.definition),
    ]);
    seeded.push(p);
  }
  return seeded;
}

/** Adds another flow to a seeded platform's project. */
export async function addFlow(pool: pg.Pool, platform: SeededPlatform, definition: unknown): Promise<string> {
  const flowId = rid('flow');
  await pool.query('INSERT INTO flow (id, project_id, definition) VALUES ($1, $2, $3)', [flowId, platform.projectId, JSON.stringify(definition)]);
  return flowId;
}

/** A principal JWT (HS256) of `platformId`, valid for an hour. */
export function principalJwt(secret: string, platformId: string, type: 'USER' | 'SERVICE' | 'ENGINE' = 'USER'): Promise<string> {
  return sign(
    { id: rid('user'), type, projectId: rid('proj'), platform: { id: platformId }, exp: Math.floor(Date.now() / 1000) + 3600 },
    secret,
    'HS256',
  );
}

/** Random secrets and Socket.IO key for one test topology. */
export function randomSecrets(): { jwtSecret: string; apiKey: string; workerSecret: string; socketIoRedisKey: string } {
  return {
    jwtSecret: crypto.randomUUID(),
    apiKey: `ak_${crypto.randomUUID()}`,
    workerSecret: `ws_${crypto.randomUUID()}`,
    socketIoRedisKey: `socket.io-test-${crypto.randomUUID().slice(0, 8)}`,
  };
}

/** Percentile (0..100) of a list of numbers. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] ?? Number.NaN;
}
