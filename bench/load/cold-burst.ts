import type { AutocannonRequest } from 'autocannon';
import type { SeedCounts } from '../seed-app/seed-app-main.js';
import type { BenchTopology } from './bench-topology.js';
import type { EdgeTraceSnapshot } from './edge-trace.js';
import { edgeTraceAfter, quiesceSeedApp, resetCounters, targetUrl } from './measure-cell.js';
import { runLoad } from './run-load.js';

/** What the first second after a cache invalidation costs the database. */
export interface ColdBurstResult {
  design: 'edge' | 'in-app';
  cohort: number;
  connections: number;
  seconds: number;
  responses: number;
  p50Ms: number;
  p99Ms: number;
  dbQueries: number;
  errors: number;
  non2xx: number;
  /** Edge only: fill waits and how long loading the cohort took. */
  edgeTrace: EdgeTraceSnapshot | null;
}

/**
 * Loads a design whose cached cohort was just dropped with `connections` concurrent requests for `seconds` and counts
 * the database queries: the edge fills the cache under a lock, the seed lets every concurrent miss query Postgres.
 */
export async function coldBurst(
  t: BenchTopology,
  design: 'edge' | 'in-app',
  cohort: number,
  requests: AutocannonRequest[],
  connections: number,
  seconds: number,
): Promise<ColdBurstResult> {
  await resetCounters(t);
  const load = await runLoad({ url: targetUrl(t, design), connections, seconds, requests });
  let dbQueries: number;
  let edgeTrace: EdgeTraceSnapshot | null = null;
  if (design === 'in-app') {
    await quiesceSeedApp(t);
    dbQueries = (await t.seedApp.call<SeedCounts>('counts')).dbQueries;
  } else {
    dbQueries = t.neon.stats.queries;
    edgeTrace = await edgeTraceAfter(t, load.responses);
  }
  return {
    design,
    cohort,
    connections,
    seconds,
    responses: load.responses,
    p50Ms: load.p50Ms,
    p99Ms: load.p99Ms,
    dbQueries,
    errors: load.errors,
    non2xx: load.non2xx,
    edgeTrace,
  };
}
