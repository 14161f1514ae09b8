import { Miniflare } from 'miniflare';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import type { EdgeConfig } from '../edge/config.js';
import { REPO_ROOT, bundleEdge } from './bundle-edge.js';

/** The edge's own configuration (the Worker parses its bindings into the same shape), plus where to listen. */
export interface EdgeRunnerOptions extends Omit<EdgeConfig, 'storeTimeoutMs'> {
  /** 0 or omitted = a free port. */
  port?: number;
  host?: string;
  /** Per store call timeout (ms). */
  storeTimeoutMs?: number;
  /** Each line the Worker writes (request log lines are JSON). Defaults to dropping them. */
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface EdgeRunner {
  url: string;
  port: number;
  close(): Promise<void>;
}

function pipeLines(stream: Readable, kind: 'stdout' | 'stderr', onLog: EdgeRunnerOptions['onLog']): void {
  const rl = createInterface({ input: stream });
  rl.on('line', (line) => onLog?.(line, kind));
}

/**
 * Runs the edge Worker in workerd through Miniflare, programmatically and with the inspector off (the wrangler dev
 * CLI's debugger captures traffic and makes large transfers slow and memory-hungry).
 */
export async function startEdge(options: EdgeRunnerOptions): Promise<EdgeRunner> {
  const scriptPath = await bundleEdge();
  // The Worker's own settings (compatibility date and flags, vars, rate limiters, ...) as wrangler reads them from
  // wrangler.toml for `wrangler dev`, so what runs here is configured exactly like what `wrangler deploy` ships.
  const { workerOptions } = unstable_getMiniflareWorkerOptions(path.join(REPO_ROOT, 'wrangler.toml'));
  const mf = new Miniflare({
    ...workerOptions,
    name: 'canary-edge',
    modules: true,
    scriptPath,
    // Module names are relative to this root; the bundle lives in its own temporary directory.
    modulesRoot: path.dirname(scriptPath),
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    bindings: {
      ...workerOptions.bindings,
      AP_PRIMARY_APP_URL: options.primaryUrl,
      AP_CANARY_APP_URL: options.canaryUrl,
      AP_API_KEY: options.apiKey,
      AP_JWT_SECRET: options.jwtSecret,
      UPSTASH_REDIS_REST_URL: options.upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: options.upstashToken,
      DATABASE_URL: options.databaseUrl,
      NEON_HTTP_ENDPOINT: options.neonHttpEndpoint,
      STORE_TIMEOUT_MS: String(options.storeTimeoutMs ?? 1_000),
    },
    logRequests: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      pipeLines(stdout, 'stdout', options.onLog);
      pipeLines(stderr, 'stderr', options.onLog);
    },
  });
  const url = await mf.ready;
  return {
    url: url.origin,
    port: Number(url.port),
    async close() {
      await mf.dispose();
      await rm(path.dirname(scriptPath), { recursive: true, force: true });
    },
  };
}
