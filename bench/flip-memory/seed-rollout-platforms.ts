import type pg from 'pg';
import { seedPlatformRange } from '../../dev/seed/seed-data.js';
import type { BacklogOwner } from './seed-backlog.js';

/**
 * `count` platforms that follow the rollout (no explicit choice), each with one project and one flow, in a few
 * statements whatever the count. Ids are zero-padded to one width, so every job of the backlog has data of one length.
 */
export async function seedRolloutPlatforms(pool: pg.Pool, count: number, prefix = 'step-'): Promise<BacklogOwner[]> {
  const pad = Math.max(6, String(count).length);
  await seedPlatformRange(pool, { prefix: `${prefix}plat-`, count, canary: false, pad });
  const idOf = (kind: string): string => `$1::text || '${kind}-' || lpad(g::text, ${pad}, '0')`;
  await pool.query(`INSERT INTO project (id, platform_id) SELECT ${idOf('proj')}, ${idOf('plat')} FROM generate_series(1, $2::int) g`, [prefix, count]);
  await pool.query(`INSERT INTO flow (id, project_id) SELECT ${idOf('flow')}, ${idOf('proj')} FROM generate_series(1, $2::int) g`, [prefix, count]);
  const id = (kind: string, n: number): string => `${prefix}${kind}-${String(n).padStart(pad, '0')}`;
  return Array.from({ length: count }, (_, i) => ({ platformId: id('plat', i + 1), flowId: id('flow', i + 1) }));
}
