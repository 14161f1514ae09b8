import autocannon from 'autocannon';
import type { AutocannonRequest } from 'autocannon';
import { latencySummary } from '../support/stats.js';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  /** Send exactly this many requests instead of running for `seconds`; nothing is left in flight at the end. */
  amount?: number;
  /** Cycled through in order by every connection. */
  requests: AutocannonRequest[];
}

/** One autocannon run, with latencies recorded at full precision (autocannon's own histogram rounds to whole ms). */
export interface LoadResult {
  /** Completed responses (any status). */
  responses: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Socket errors and timeouts: requests that got no answer. */
  errors: number;
  non2xx: number;
  statusCounts: Record<string, number>;
}

/** Runs a closed-loop load (`connections` in flight) for `seconds` and summarises it. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies: number[] = [];
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    ...(options.amount === undefined ? { duration: options.seconds } : { amount: options.amount }),
    pipelining: 1,
    timeout: 10,
    requests: options.requests,
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, responseTimeMs: number) => {
    latencies.push(responseTimeMs);
  });
  const result = await instance;
  const { p50, p99 } = latencySummary(latencies);
  const statusCounts: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCounts[code] = count;
  return {
    responses: latencies.length,
    seconds: result.duration,
    rps: latencies.length / result.duration,
    p50Ms: p50,
    p99Ms: p99,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    statusCounts,
  };
}
