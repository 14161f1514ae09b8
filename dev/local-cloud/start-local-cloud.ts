import { randomBytes } from 'node:crypto';
import { CloseStack } from '../../core/lifecycle/close-all.js';
import type { EdgeBindings } from '../../edge/config.js';
import type { LocalStoreUrls } from '../../tools/env/local-stores.js';
import { startEdge } from '../edge/edge-runner.js';
import type { EdgeRunner } from '../edge/edge-runner.js';
import { startNeonLocal } from '../neon-local/server.js';
import type { NeonLocal } from '../neon-local/server.js';
import { startOriginApp, startOriginWorker } from '../origin/origin-processes.js';
import type { OriginTopology, StartedApp } from '../origin/origin-processes.js';
import type { ManagedProcess } from '../process/managed-process.js';
import { allocatePort } from '../ports/port-allocator.js';
import { startUpstashLocal } from '../upstash-local/server.js';
import type { UpstashLocal } from '../upstash-local/server.js';

/** The secrets one topology shares (the edge gets the first two, the origins the last two). */
export interface LocalSecrets {
  apiKey: string;
  jwtSecret: string;
  workerSecret: string;
}

/** Real origin apps (and a worker per fleet) started by the local cloud. */
export interface LocalApps {
  primaryVersion: string;
  canaryVersion: string;
  /** Omitted: allocated ports (dev/ports); 0: whatever the kernel picks. */
  primaryPort?: number;
  canaryPort?: number;
  /** A primary and a canary worker (default true). */
  workers?: boolean;
  socketIoRedisKey: string;
  /** Environment the origin processes start from (default: PATH and HOME only). */
  baseEnv?: NodeJS.ProcessEnv;
  extra?: Record<string, string>;
}

export interface LocalCloudOptions {
  /** The Redis database and the (migrated) Postgres database everything uses. */
  stores: LocalStoreUrls;
  secrets: LocalSecrets;
  /** What the edge routes to: apps started here, or origins the caller runs (none: only the endpoints). */
  origins?: { apps: LocalApps } | { urls: { primary: string; canary: string } };
  /** The edge Worker (default: on, free port); false leaves it out. */
  edge?: false | {
    port?: number;
    host?: string;
    /** false = AP_CANARY_APP_URL empty: canary routing off. */
    canaryRouting?: boolean;
    storeTimeoutMs?: number;
    onLog?: (line: string, stream: 'stdout' | 'stderr') => void;
    inspectorPort?: number;
    /** Bench only: run another build of the edge (see EdgeRunnerOptions.build). */
    build?: { scriptPath: string; wranglerToml: string };
    /** More bindings (e.g. ADMIN_STORE_TIMEOUT_MS), by their Worker names. */
    bindings?: EdgeBindings;
  };
  /**
   * The local Upstash endpoint; `external` when the caller runs one (the bench runs it in its own process). Without a
   * port, both endpoints get allocated ones (dev/ports), so a fault drill can restart them on the same number.
   */
  upstash?: { port?: number; host?: string; token?: string } | { external: { url: string; token: string } };
  neon?: { port?: number; host?: string };
  /** Each output line of an origin process. */
  onLine?: (raw: string, name: string) => void;
}

/** A service that can be stopped and started again on the same port (fault drills). */
export interface Restartable<T> {
  readonly current: T;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Everything `startLocalCloud` started; `close()` stops it all, newest first. */
export interface LocalCloud {
  edge: EdgeRunner | null;
  /** The bindings the edge runs with (null without an edge), e.g. to start a second, instrumented one (bench). */
  edgeBindings: EdgeBindings | null;
  upstashUrl: string;
  upstashToken: string;
  /** Null when the caller runs the Upstash endpoint. */
  upstash: Restartable<UpstashLocal> | null;
  neon: Restartable<NeonLocal>;
  primaryUrl: string;
  canaryUrl: string;
  apps: { primary: StartedApp; canary: StartedApp } | null;
  workers: ManagedProcess[];
  close(): Promise<void>;
}

function restartable<T extends { port: number; close(): Promise<void> }>(first: T, start: (port: number) => Promise<T>): Restartable<T> {
  let current = first;
  let running = true;
  return {
    get current() {
      return current;
    },
    async stop() {
      if (!running) return;
      running = false;
      await current.close();
    },
    async start() {
      if (running) return;
      current = await start(current.port);
      running = true;
    },
  };
}

/**
 * The one local topology — the local Upstash and Neon endpoints over the real Redis and Postgres, optionally the
 * origin apps and workers, and the edge Worker in workerd — in dependency order, each waited for. `npm start`, the
 * tests and the bench all start it here. On a failure it stops what already started.
 */
export async function startLocalCloud(options: LocalCloudOptions): Promise<LocalCloud> {
  const stack = new CloseStack();
  try {
    const { stores, secrets } = options;
    const upstashOptions = options.upstash ?? {};
    let upstash: Restartable<UpstashLocal> | null = null;
    let upstashUrl: string;
    let upstashToken: string;
    if ('external' in upstashOptions) {
      ({ url: upstashUrl, token: upstashToken } = upstashOptions.external);
    } else {
      const token = upstashOptions.token ?? randomBytes(16).toString('hex');
      const begin = (port: number) => startUpstashLocal({ redisUrl: stores.redisUrl, token, port, host: upstashOptions.host });
      upstash = stack.add('upstash endpoint', restartable(await begin(upstashOptions.port ?? (await allocatePort())), begin), (u) => u.stop());
      upstashUrl = upstash.current.url;
      upstashToken = token;
    }
    const startNeon = (port: number) => startNeonLocal({ port, host: options.neon?.host });
    const neon = stack.add('neon endpoint', restartable(await startNeon(options.neon?.port ?? (await allocatePort())), startNeon), (n) => n.stop());

    let apps: LocalCloud['apps'] = null;
    const workers: ManagedProcess[] = [];
    let primaryUrl = '';
    let canaryUrl = '';
    const origins = options.origins;
    if (origins !== undefined && 'apps' in origins) {
      const a = origins.apps;
      const topology: OriginTopology = {
        redisUrl: stores.redisUrl,
        postgresUrl: stores.postgresUrl,
        jwtSecret: secrets.jwtSecret,
        workerSecret: secrets.workerSecret,
        socketIoRedisKey: a.socketIoRedisKey,
        baseEnv: a.baseEnv,
        extra: a.extra,
        onLine: options.onLine,
      };
      const [primary, canary] = await Promise.all([
        startOriginApp(topology, { name: 'primary-app', version: a.primaryVersion, port: a.primaryPort }),
        startOriginApp(topology, { name: 'canary-app', version: a.canaryVersion, port: a.canaryPort, canary: true }),
      ]);
      stack.add('primary app', primary, (p) => p.close());
      stack.add('canary app', canary, (c) => c.close());
      apps = { primary, canary };
      if (a.workers ?? true) {
        // Added after the apps, so they stop first: a worker must not lose its app mid-job.
        const started = await Promise.all([
          startOriginWorker(topology, { name: 'primary-worker', version: a.primaryVersion, frontendUrl: primary.url, canary: false }),
          startOriginWorker(topology, { name: 'canary-worker', version: a.canaryVersion, frontendUrl: canary.url, canary: true }),
        ]);
        for (const w of started) workers.push(stack.add(w.name, w, (p) => p.close()));
      }
      primaryUrl = primary.url;
      canaryUrl = canary.url;
    } else if (origins !== undefined) {
      primaryUrl = origins.urls.primary;
      canaryUrl = origins.urls.canary;
    }

    let edge: EdgeRunner | null = null;
    let edgeBindings: EdgeBindings | null = null;
    if (options.edge !== false) {
      if (origins === undefined) throw new Error('startLocalCloud: the edge needs origins (apps or URLs), or pass edge: false');
      const e = options.edge ?? {};
      const bindings: EdgeBindings = {
        AP_PRIMARY_APP_URL: primaryUrl,
        AP_CANARY_APP_URL: e.canaryRouting === false ? '' : canaryUrl,
        AP_API_KEY: secrets.apiKey,
        AP_JWT_SECRET: secrets.jwtSecret,
        UPSTASH_REDIS_REST_URL: upstashUrl,
        UPSTASH_REDIS_REST_TOKEN: upstashToken,
        DATABASE_URL: stores.postgresUrl,
        NEON_HTTP_ENDPOINT: neon.current.fetchEndpoint,
        STORE_TIMEOUT_MS: String(e.storeTimeoutMs ?? 1_000),
        // A developer's machine: npm start and the tests may use a short AP_API_KEY.
        LOCAL_DEVELOPMENT: 'true',
        ...e.bindings,
      };
      edgeBindings = bindings;
      edge = stack.add(
        'edge',
        await startEdge({ bindings, port: e.port, host: e.host, onLog: e.onLog, inspectorPort: e.inspectorPort, build: e.build }),
        (r) => r.close(),
      );
    }
    return { edge, edgeBindings, upstashUrl, upstashToken, upstash, neon, primaryUrl, canaryUrl, apps, workers, close: () => stack.close() };
  } catch (error) {
    try {
      await stack.close();
    } catch (closeError) {
      throw new AggregateError([error, closeError], `starting the local cloud failed, and so did stopping what had started`);
    }
    throw error;
  }
}
