import type { AutocannonRequest } from 'autocannon';
import { seedPlatformRange, seedPlatformsBulk, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { SEED_COHORT_KEY } from '../seed-app/seed-cohort-store.js';
import type { BenchTopology } from './bench-topology.js';
import { PROBE_COHORT_KEY } from './bench-topology.js';

/** Platforms the load names: half in the cohort, half not. Ids are 21 characters, like Activepieces' nanoids. */
export interface LoadPlatforms {
  canary: string[];
  primary: string[];
}

const LOAD_PLATFORMS_PER_SIDE = 10;

function platformId(prefix: string, n: number): string {
  return `${prefix}${String(n).padStart(21 - prefix.length, '0')}`;
}

/** Inserts the load platforms (canary ones flagged) and returns their ids. */
export async function seedLoadPlatforms(t: BenchTopology): Promise<LoadPlatforms> {
  const canary = Array.from({ length: LOAD_PLATFORMS_PER_SIDE }, (_, i) => platformId('canary_', i));
  const primary = Array.from({ length: LOAD_PLATFORMS_PER_SIDE }, (_, i) => platformId('primary_', i));
  for (const [ids, flag] of [[canary, true], [primary, false]] as const) await seedPlatformsBulk(t.pool, ids, flag);
  await t.redis.del(PROBE_COHORT_KEY);
  await t.redis.sadd(PROBE_COHORT_KEY, ...canary);
  return { canary, primary };
}

/**
 * The request list every target gets: GET /v1/flows with a principal JWT, alternating a canary and a primary platform,
 * so each design routes exactly half of the load to the canary.
 */
export async function loadRequests(platforms: LoadPlatforms, jwtSecret: string): Promise<AutocannonRequest[]> {
  const requests: AutocannonRequest[] = [];
  for (let i = 0; i < LOAD_PLATFORMS_PER_SIDE; i++) {
    for (const id of [platforms.canary[i], platforms.primary[i]]) {
      if (id === undefined) continue;
      const token = await signPrincipalJwt(jwtSecret, id, { expiresInSeconds: 6 * 3600 });
      requests.push({ method: 'GET', path: '/v1/flows', headers: { authorization: `Bearer ${token}` } });
    }
  }
  return requests;
}

/**
 * Makes the canary cohort `size` platforms (the load's canary platforms plus filler rows) in Postgres, then drops both
 * designs' cached cohorts the way each design does it: the edge (and the baseline build) through its admin route, the
 * seed with a DEL.
 */
export async function setCohortSize(t: BenchTopology, platforms: LoadPlatforms, size: number): Promise<void> {
  const filler = Math.max(0, size - platforms.canary.length);
  await seedPlatformRange(t.pool, { prefix: 'fill_', count: filler, canary: true, pad: 16 });
  await t.pool.query('ANALYZE platform_plan');
  const first = platforms.canary[0];
  if (first === undefined) throw new Error('no canary load platform');
  // Both edge builds, each through its own admin route: each keeps its cached cohort in a Redis database of its own.
  for (const edge of [t.edge, ...(t.baseline === null ? [] : [t.baseline.edge])]) {
    const res = await fetch(`${edge.url}/v1/admin/platforms/canary`, {
      method: 'POST',
      headers: { 'api-key': t.apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ platformId: first, canary: true }),
    });
    if (res.status !== 200) throw new Error(`edge admin flip answered ${res.status}: ${await res.text()}`);
  }
  await t.redis.del(SEED_COHORT_KEY);
}

/**
 * `count` distinct platforms for the signal-recording measurement: the load's platforms and filler platforms without
 * an explicit choice (on the primary while the rollout is 0%; not in the cohort the other measurements size).
 */
export async function signalPlatforms(t: BenchTopology, platforms: LoadPlatforms, count: number): Promise<string[]> {
  const known = [...platforms.canary, ...platforms.primary];
  const extra = Math.max(0, count - known.length);
  await seedPlatformRange(t.pool, { prefix: 'sig_', count: extra, canary: false, pad: 17 });
  return [...known, ...Array.from({ length: extra }, (_, i) => `sig_${String(i + 1).padStart(17, '0')}`)];
}
