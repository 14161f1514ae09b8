import { seedPlatformRange } from '../../dev/seed/seed-data.js';
import type { BenchTopology } from './bench-topology.js';
import type { LoadPlatforms } from './cohort.js';
import { setCohortSize } from './cohort.js';
import { edgeAdmin } from './edge-admin.js';

/**
 * Turns the cohort into a 50% rollout over `total` platforms: filler rows and the load's own platforms lose their
 * explicit choice (they follow the rollout), then the rollout is set through the admin route (which invalidates the
 * cache). Which load platforms land on the canary is the bucket rule's business; the report shows the share.
 */
export async function enterRollout(t: BenchTopology, platforms: LoadPlatforms, total: number): Promise<{ salt: string }> {
  const load = [...platforms.canary, ...platforms.primary];
  await seedPlatformRange(t.pool, { prefix: 'fill_', count: Math.max(0, total - load.length), canary: false, pad: 16 });
  await t.pool.query('UPDATE platform_plan SET canary = false, canary_explicit = false WHERE platform_id = ANY($1)', [load]);
  await t.pool.query('ANALYZE platform_plan');
  return edgeAdmin<{ salt: string }>(t, 'PUT', '/v1/admin/canary/rollout', { percent: 50, reason: 'bench: rollout phase' });
}

/** Back to pinned: rollout 0, the load's canary platforms pinned again, and a pinned cohort of `cohort`. */
export async function leaveRollout(t: BenchTopology, platforms: LoadPlatforms, cohort: number): Promise<void> {
  await edgeAdmin(t, 'PUT', '/v1/admin/canary/rollout', { percent: 0, reason: 'bench: rollout phase over' });
  await t.pool.query('UPDATE platform_plan SET canary = true, canary_explicit = true WHERE platform_id = ANY($1)', [platforms.canary]);
  await t.pool.query('UPDATE platform_plan SET canary = false, canary_explicit = true WHERE platform_id = ANY($1)', [platforms.primary]);
  await setCohortSize(t, platforms, cohort);
}
