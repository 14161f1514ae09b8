import { seedPlatform } from '../../dev/seed/seed-data.js';
import type { AutocannonRequest } from 'autocannon';
import type { SeedCounts } from '../seed-app/seed-app-main.js';
import { SEED_COHORT_KEY } from '../seed-app/seed-cohort-store.js';
import type { UpstashCounts } from '../services/upstash-main.js';
import type { BenchTopology } from './bench-topology.js';
import type { EdgeTraceSnapshot } from './edge-trace.js';
import { edgeTraceAfter, quiesceSeedApp, resetCounters, targetUrl } from './measure-cell.js';
import { runLoad } from './run-load.js';
import type { LoadResult } from './run-load.js';

/** A timed load while one platform (not in the load) is flipped every second, the way each design flips. */
export interface FlipLoadResult {
  design: 'edge' | 'in-app';
  cohort: number;
  connections: number;
  flips: number;
  load: LoadResult;
  dbQueries: number;
  redisRoundTripsPerRequest: number;
  edgeTrace: EdgeTraceSnapshot | null;
}

/** The platform the flip load (and the heap check) toggles: never part of the load. */
export const FLIP_PLATFORM = 'flipper_0000000000000';

/** Inserts the platform the flip load toggles (outside the load's own platforms). */
export async function seedFlipPlatform(t: BenchTopology): Promise<string> {
  return seedPlatform(t.pool, { id: FLIP_PLATFORM, canary: false });
}

/** The edge's flip: its admin route (Postgres, then invalidation). */
async function flipEdge(t: BenchTopology, canary: boolean): Promise<void> {
  const res = await fetch(`${t.edge.url}/v1/admin/platforms/canary`, {
    method: 'POST',
    headers: { 'api-key': t.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ platformId: FLIP_PLATFORM, canary }),
  });
  await res.arrayBuffer();
  if (res.status !== 200) throw new Error(`edge flip answered ${res.status}`);
}

/** The seed's `updateCanary`: update `platform_plan`, then DEL the cached list. */
async function flipSeed(t: BenchTopology, canary: boolean): Promise<void> {
  await t.pool.query('UPDATE platform_plan SET canary = $2 WHERE platform_id = $1', [FLIP_PLATFORM, canary]);
  await t.redis.del(SEED_COHORT_KEY);
}

/** Runs `seconds` of load at `connections` while flipping once a second (bounded: one flip per elapsed second). */
export async function measureUnderFlips(
  t: BenchTopology,
  design: 'edge' | 'in-app',
  cohort: number,
  connections: number,
  seconds: number,
  requests: AutocannonRequest[],
): Promise<FlipLoadResult> {
  await resetCounters(t);
  const started = performance.now();
  let flips = 0;
  const flipping = (async () => {
    for (let k = 1; k < seconds; k++) {
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + k * 1000 - performance.now())));
      const canary = k % 2 === 1;
      await (design === 'edge' ? flipEdge(t, canary) : flipSeed(t, canary));
      flips++;
    }
  })();
  const [load] = await Promise.all([runLoad({ url: targetUrl(t, design), connections, seconds, requests }), flipping]);
  if (design === 'in-app') {
    await quiesceSeedApp(t);
    const seed = await t.seedApp.call<SeedCounts>('counts');
    return { design, cohort, connections, flips, load, dbQueries: seed.dbQueries, redisRoundTripsPerRequest: seed.redisCommands / Math.max(1, seed.received), edgeTrace: null };
  }
  const upstash = await t.upstash.call<UpstashCounts>('counts');
  const trace = await edgeTraceAfter(t, load.responses);
  // The admin route's own Redis calls are not request lookups.
  const lookups = upstash.requests - flips;
  // Each flip is one UPDATE by the admin route; the rest are readers reloading the cohort.
  return { design, cohort, connections, flips, load, dbQueries: t.neon.stats.queries - flips, redisRoundTripsPerRequest: lookups / Math.max(1, trace.requests - flips), edgeTrace: trace };
}
