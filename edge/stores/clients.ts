import { neon, neonConfig } from '@neondatabase/serverless';
import { Redis } from '@upstash/redis/cloudflare';
import { storeCall } from '../../core/membership/index.js';
import type { ScriptRunner, SqlClient } from '../../core/membership/index.js';
import { createUpstashScriptRunner } from './upstash-script-runner.js';

export interface StoreClientOptions {
  upstashUrl: string;
  upstashToken: string;
  databaseUrl: string;
  /** Local development only: the repo's Neon endpoint. Empty in deployed environments. */
  neonHttpEndpoint: string;
  /** Per-call timeout, so a hung store fails open instead of hanging the request. */
  timeoutMs: number;
}

/**
 * Upstash REST client tuned for the request path: no telemetry, no JSON guessing, no retry (a request fails open to
 * the primary instead of waiting), and plain JSON replies: everything the edge stores is UTF-8 text (ids, JSON), so
 * the default base64 reply encoding would only add a decode per call (measured in the CPU profile, BENCHMARKS.md).
 */
export function createRedisRunner(options: StoreClientOptions): ScriptRunner | null {
  if (options.upstashUrl === '' || options.upstashToken === '') return null;
  const redis = new Redis({
    url: options.upstashUrl,
    token: options.upstashToken,
    enableTelemetry: false,
    automaticDeserialization: false,
    enableAutoPipelining: false,
    retry: { retries: 0 },
    responseEncoding: false,
    signal: () => AbortSignal.timeout(options.timeoutMs),
  });
  return createUpstashScriptRunner(redis);
}

/** One-shot Neon HTTP queries: a Pool cannot be shared across Worker requests, and one query needs no session. */
export function createSqlClient(options: StoreClientOptions): SqlClient {
  if (options.neonHttpEndpoint !== '') neonConfig.fetchEndpoint = options.neonHttpEndpoint;
  const sql = neon(options.databaseUrl);
  return {
    async query<Row extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<Row[]> {
      const rows = await storeCall('postgres', () => sql.query(text, [...params], { fetchOptions: { signal: AbortSignal.timeout(options.timeoutMs) } }));
      return rows as Row[];
    },
  };
}
