import { Miniflare } from 'miniflare';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import type { EdgeBindings } from '../../edge/config.js';
import { childPidsByName } from '../process/process-memory.js';
import { REPO_ROOT } from '../repo-root.js';
import { edgeBundle } from './edge-bundle.js';

export interface EdgeRunnerOptions {
  /** Bindings by their Worker names (validated by the Worker itself); wrangler.toml's `[vars]` fill the rest. */
  bindings: EdgeBindings;
  /** 0 or omitted = a free port. */
  port?: number;
  host?: string;
  /** Each line the Worker writes (request log lines are JSON). Defaults to dropping them. */
  onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
  /** Bench only: opens the V8 inspector on this port (it slows large transfers, so it stays off otherwise). */
  inspectorPort?: number;
  /** Bench only: an unminified bundle, so a CPU profile names functions and modules. */
  unminified?: boolean;
  /** Bench only: another build of the edge (an earlier commit's bundle and its wrangler.toml), to compare against. */
  build?: { scriptPath: string; wranglerToml: string };
}

/** The edge Worker running in workerd. */
export interface EdgeRunner {
  url: string;
  port: number;
  /** The workerd process serving it (for memory measurements). */
  pid: number;
  /** The bundle it runs. */
  scriptPath: string;
  close(): Promise<void>;
}

function pipeLines(stream: Readable, kind: 'stdout' | 'stderr', onLog: EdgeRunnerOptions['onLog']): void {
  createInterface({ input: stream }).on('line', (line) => onLog?.(line, kind));
}

/**
 * Runs the edge Worker in workerd through Miniflare: the bundle `wrangler deploy` would upload, configured by
 * wrangler.toml as wrangler reads it for `wrangler dev` (compatibility date and flags, vars, rate limiters), with the
 * inspector off (the `wrangler dev` CLI's debugger captures traffic and makes large transfers slow).
 */
export async function startEdge(options: EdgeRunnerOptions): Promise<EdgeRunner> {
  const scriptPath = options.build?.scriptPath ?? (await edgeBundle({ minify: options.unminified !== true }));
  const { workerOptions } = unstable_getMiniflareWorkerOptions(options.build?.wranglerToml ?? path.join(REPO_ROOT, 'wrangler.toml'));
  const workerdBefore = new Set(childPidsByName('workerd'));
  const mf = new Miniflare({
    ...workerOptions,
    name: 'canary-edge',
    modules: true,
    scriptPath,
    modulesRoot: path.dirname(scriptPath),
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    bindings: { ...workerOptions.bindings, ...options.bindings },
    logRequests: false,
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      pipeLines(stdout, 'stdout', options.onLog);
      pipeLines(stderr, 'stderr', options.onLog);
    },
  });
  const url = await mf.ready;
  const pid = childPidsByName('workerd').find((p) => !workerdBefore.has(p)) ?? -1;
  return {
    url: url.origin,
    port: Number(url.port),
    pid,
    scriptPath,
    close: () => mf.dispose(),
  };
}
