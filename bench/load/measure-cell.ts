import type { AutocannonRequest } from 'autocannon';
import { peakRssMiB, resetPeakRss } from '../../dev/process/process-memory.js';
import type { SeedCounts } from '../seed-app/seed-app-main.js';
import type { OriginCounts } from '../services/origins-main.js';
import type { UpstashCounts } from '../services/upstash-main.js';
import { SIGNALS_RECORD_SCRIPT } from '../../core/judge/signal-batch.js';
import { scriptSha } from '../../core/membership/index.js';
import type { BenchTopology } from './bench-topology.js';
import { cohortReloads } from './edge-trace.js';
import type { EdgeTraceSnapshot } from './edge-trace.js';
import { runLoad } from './run-load.js';
import type { LoadResult } from './run-load.js';

export type TargetName = 'direct' | 'floor' | 'probe' | 'edge' | 'edge-before' | 'in-app';

/** One measured run of one target, with the routing layer's store costs normalised per request it handled. */
export interface CellResult {
  target: TargetName;
  cohort: number;
  /** How the cohort is made: `pinned` (explicit choices) or a percentage rollout over `cohort` platforms. */
  variant: CohortVariant;
  round: number;
  connections: number;
  load: LoadResult;
  /** Requests the routing layer handled (server-side count; the load generator abandons its last in-flight ones). */
  handled: number;
  redisRoundTripsPerRequest: number | null;
  redisCommandsPerRequest: number | null;
  dbQueriesPer1k: number | null;
  /** Bytes of cohort data read from Redis per request (the seed design reads the whole JSON list). */
  cohortBytesPerRequest: number | null;
  canaryShare: number | null;
  peakRssMiB: number | null;
  /** Edge only: what its request log says (cache hits, cohort reloads, fill waits). */
  edgeTrace: EdgeTraceSnapshot | null;
  /** Edge only: Redis round trips per request not spent on a cohort reload (each install, waiters' polls). */
  steadyRoundTripsPerRequest: number | null;
}

/** `pinned`: `cohort` platforms pinned in; `rollout-50`: a 50% rollout over `cohort` platforms without a choice. */
export type CohortVariant = 'pinned' | 'rollout-50';

export interface CellSpec {
  target: TargetName;
  cohort: number;
  /** Default `pinned`. */
  variant?: CohortVariant;
  round: number;
  connections: number;
  seconds: number;
  /** Exactly this many requests instead of `seconds` of load (exact per-request accounting). */
  amount?: number;
  requests: AutocannonRequest[];
}

const QUIESCE_LIMIT_MS = 60_000;
const QUIESCE_POLL_MS = 50;
const LOG_CATCH_UP_MS = 3_000;

/** The URL a target is loaded at. */
export function targetUrl(t: BenchTopology, target: TargetName): string {
  if (target === 'direct') return t.origins.info.primaryUrl;
  if (target === 'floor') return t.floor.url;
  if (target === 'probe') return t.probe.url;
  if (target === 'edge') return t.edge.url;
  if (target === 'edge-before') return baselineOf(t).edge.url;
  return t.seedApp.info.url;
}

function routingPid(t: BenchTopology, target: TargetName): number | null {
  if (target === 'floor') return t.floorPid;
  if (target === 'probe') return t.probePid;
  if (target === 'edge') return t.edgePid;
  if (target === 'edge-before') return baselineOf(t).edge.pid;
  if (target === 'in-app') return t.seedApp.pid;
  return null;
}

function baselineOf(t: BenchTopology): NonNullable<BenchTopology['baseline']> {
  if (t.baseline === null) throw new Error('the baseline edge is not running (BENCH_BASELINE_REF is empty)');
  return t.baseline;
}

/** Zeroes every counter the next measurement reads. */
export async function resetCounters(t: BenchTopology): Promise<void> {
  await Promise.all([t.origins.call('reset'), t.upstash.call('reset'), t.seedApp.call('reset'), t.baseline?.upstash.call('reset')]);
  t.neon.stats.reset();
  t.baseline?.neon.stats.reset();
  t.edgeTrace.reset();
}

/** Upstash requests on the request path: everything but the health flushes sent after responses. */
async function criticalRequests(counts: UpstashCounts): Promise<number> {
  return counts.requests - (counts.byScript[await scriptSha(SIGNALS_RECORD_SCRIPT)] ?? 0);
}

/** The edge's log lines arrive through a pipe after the responses; waits (bounded) until `count` have been read. */
export async function edgeTraceAfter(t: BenchTopology, count: number): Promise<EdgeTraceSnapshot> {
  const deadline = Date.now() + LOG_CATCH_UP_MS;
  while (t.edgeTrace.snapshot().requests < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, QUIESCE_POLL_MS));
  }
  return t.edgeTrace.snapshot();
}

/**
 * Waits until the seed app has finished the requests the load generator abandoned at the end of a run, so they do not
 * spill into the next measurement (with a 2.5 MB cohort they take a while).
 */
export async function quiesceSeedApp(t: BenchTopology): Promise<void> {
  const deadline = Date.now() + QUIESCE_LIMIT_MS;
  while (Date.now() < deadline) {
    const counts = await t.seedApp.call<SeedCounts>('counts');
    if (counts.inFlight === 0) return;
    await new Promise((resolve) => setTimeout(resolve, QUIESCE_POLL_MS));
  }
  throw new Error(`seed app still busy after ${QUIESCE_LIMIT_MS} ms`);
}

/** Runs one load against one target and collects what it cost. */
export async function measureCell(t: BenchTopology, spec: CellSpec): Promise<CellResult> {
  await resetCounters(t);
  const pid = routingPid(t, spec.target);
  if (pid !== null) resetPeakRss(pid);
  const load = await runLoad({ url: targetUrl(t, spec.target), connections: spec.connections, seconds: spec.seconds, amount: spec.amount, requests: spec.requests });
  if (spec.target === 'in-app') await quiesceSeedApp(t);
  const peak = pid === null ? null : peakRssMiB(pid);
  const [origins, upstash, seed] = await Promise.all([
    t.origins.call<OriginCounts>('counts'),
    (spec.target === 'edge-before' ? baselineOf(t).upstash : t.upstash).call<UpstashCounts>('counts'),
    t.seedApp.call<SeedCounts>('counts'),
  ]);
  const upstashRequests = await criticalRequests(upstash);
  const served = origins.primary + origins.canary;
  const trace = spec.target === 'edge' ? await edgeTraceAfter(t, served) : null;
  const base = { target: spec.target, cohort: spec.cohort, variant: spec.variant ?? 'pinned', round: spec.round, connections: spec.connections, load, peakRssMiB: peak, edgeTrace: trace, steadyRoundTripsPerRequest: null };
  const per = (n: number, d: number): number => (d === 0 ? Number.NaN : n / d);
  switch (spec.target) {
    case 'floor':
      return { ...base, handled: load.responses, redisRoundTripsPerRequest: null, redisCommandsPerRequest: null, dbQueriesPer1k: null, cohortBytesPerRequest: null, canaryShare: null };
    case 'direct':
      return { ...base, handled: served, redisRoundTripsPerRequest: null, redisCommandsPerRequest: null, dbQueriesPer1k: null, cohortBytesPerRequest: null, canaryShare: per(origins.canary, served) };
    case 'probe':
    case 'edge':
    case 'edge-before':
      return {
        ...base,
        handled: served,
        redisRoundTripsPerRequest: per(upstashRequests, served),
        redisCommandsPerRequest: per(upstash.commands, served),
        dbQueriesPer1k:
          spec.target === 'probe' ? null : per((spec.target === 'edge' ? t.neon : baselineOf(t).neon).stats.queries * 1000, served),
        cohortBytesPerRequest: null,
        canaryShare: per(origins.canary, served),
        steadyRoundTripsPerRequest:
          trace === null ? null : per(upstashRequests - trace.fillWaits - cohortReloads(trace), served),
      };
    case 'in-app':
      return {
        ...base,
        handled: seed.received,
        redisRoundTripsPerRequest: per(seed.redisCommands, seed.received),
        redisCommandsPerRequest: per(seed.redisCommands, seed.received),
        dbQueriesPer1k: per(seed.dbQueries * 1000, seed.received),
        cohortBytesPerRequest: per(seed.redisBytes, seed.received),
        canaryShare: per(seed.proxied, seed.received),
      };
  }
}
