import { SIGNALS_RECORD_SCRIPT } from '../core/judge/signal-batch.js';
import { scriptSha } from '../core/membership/index.js';
import { LOOKUP_SCRIPT } from '../core/membership/scripts.js';
import type { UpstashLocalStats } from '../dev/upstash-local/server.js';

/** The Upstash requests an edge made, told apart: request-path lookups, health flushes (sent after responses), rest. */
export interface RoundTrips {
  /** HTTP requests in all. */
  total: number;
  /** Membership lookups: the one round trip on a request's critical path. */
  lookups: number;
  /** Health-count flushes, sent from `waitUntil` after a response (at most one per second per isolate). */
  healthFlushes: number;
  /** On the critical path: everything but the health flushes. */
  critical: number;
}

/** Reads the endpoint's counters as round trips (each script call is its own HTTP request at the edge). */
export async function roundTrips(stats: UpstashLocalStats): Promise<RoundTrips> {
  const [lookup, health] = await Promise.all([scriptSha(LOOKUP_SCRIPT), scriptSha(SIGNALS_RECORD_SCRIPT)]);
  const healthFlushes = stats.byScript[health] ?? 0;
  return { total: stats.requests, lookups: stats.byScript[lookup] ?? 0, healthFlushes, critical: stats.requests - healthFlushes };
}
