import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { startLocalCloud } from '../../dev/local-cloud/start-local-cloud.js';
import type { EdgeRunner } from '../../dev/edge/edge-runner.js';
import type { EdgeBindings } from '../../edge/config.js';
import type { NeonLocal } from '../../dev/neon-local/server.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { childPidsByName } from '../../dev/process/process-memory.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import { startWorkerModule } from '../probe/start-worker.js';
import type { WorkerRunner } from '../probe/start-worker.js';
import type { SeedAppChildConfig, SeedAppInfo } from '../seed-app/seed-app-main.js';
import type { OriginsInfo } from '../services/origins-main.js';
import type { UpstashChildConfig, UpstashInfo } from '../services/upstash-main.js';
import type { CleanupStack } from '../support/cleanup-stack.js';
import { startChildService } from '../support/child-service.js';
import type { ChildService } from '../support/child-service.js';
import { buildBaselineEdge, DEFAULT_BASELINE_REF } from './baseline-edge.js';
import type { BaselineBuild } from './baseline-edge.js';
import { EdgeTrace } from './edge-trace.js';

/** The probe's own cohort SET, so it never depends on the edge's cache state (or its TTL). */
export const PROBE_COHORT_KEY = 'bench:probe-canary-platform-ids';

/** Lines the edge Worker wrote, counted rather than kept. */
export interface EdgeLogCounts {
  lines: number;
  storeFallbacks: number;
  /** workerd reporting that a client hung up mid-response (the load generator does so when a run ends). */
  clientDisconnects: number;
  other: number;
}

/** Everything the bench measures, all on 127.0.0.1. */
export interface BenchTopology {
  apiKey: string;
  jwtSecret: string;
  db: TestDatabase;
  /** Seeding and cache control from the bench process itself. */
  pool: pg.Pool;
  redis: Redis;
  origins: ChildService<OriginsInfo>;
  upstash: ChildService<UpstashInfo>;
  neon: NeonLocal;
  edge: EdgeRunner;
  /** The edge's bindings, to start instrumented copies of it (CPU profile, heap reads). */
  edgeBindings: EdgeBindings;
  edgePid: number;
  edgeLog: EdgeLogCounts;
  /** The edge's request log folded into counters (cache hits, DB use, fill waits per measurement). */
  edgeTrace: EdgeTrace;
  probe: WorkerRunner;
  probeBindings: Record<string, string>;
  probePid: number;
  floor: WorkerRunner;
  floorPid: number;
  seedApp: ChildService<SeedAppInfo>;
  /** The edge of an earlier commit (BENCH_BASELINE_REF) on stores of its own, or null when left out. */
  baseline: BaselineEdge | null;
}

/** The baseline edge: its build, runner, Upstash endpoint (own Redis database) and Neon endpoint (same Postgres). */
export interface BaselineEdge {
  build: BaselineBuild;
  edge: EdgeRunner;
  upstash: ChildService<UpstashInfo>;
  neon: NeonLocal;
  logLines: number;
}

function newWorkerdPid(known: readonly number[]): number {
  const pid = childPidsByName('workerd').find((p) => !known.includes(p));
  if (pid === undefined) throw new Error('could not find the workerd process Miniflare started');
  return pid;
}

/** Starts the database, Redis reservation, origins, the local cloud (its Upstash endpoint in a child), the probe and the seed app. */
export async function startBenchTopology(stack: CleanupStack): Promise<BenchTopology> {
  const apiKey = `bench-admin-${randomBytes(12).toString('hex')}`;
  const jwtSecret = `bench-jwt-${randomBytes(16).toString('hex')}`;
  const upstashToken = randomBytes(16).toString('hex');

  const db = stack.add('database', await createTestDatabase(), (d) => d.close());
  const redisDb = stack.add('redis reservation', await reserveRedisDb(), (r) => r.close());
  // Ended by db.close(), which waits for its sessions to leave the server first.
  const pool = db.pool({ max: 4 });
  const redis = stack.add('redis client', new Redis(redisDb.url, { maxRetriesPerRequest: 1 }), async (r) => {
    await r.quit();
  });
  // The origins and the Upstash endpoint run in child processes, so their work never competes with the load generator.
  const origins = stack.add('origins', await startChildService<OriginsInfo>('services/origins-main.ts', {}), (c) => c.close());
  const upstashConfig: UpstashChildConfig = { redisUrl: redisDb.url, token: upstashToken };
  const upstash = stack.add('upstash endpoint', await startChildService<UpstashInfo>('services/upstash-main.ts', upstashConfig), (c) => c.close());

  const edgeLog: EdgeLogCounts = { lines: 0, storeFallbacks: 0, clientDisconnects: 0, other: 0 };
  const edgeTrace = new EdgeTrace();
  const cloud = stack.add(
    'local cloud',
    await startLocalCloud({
      stores: { redisUrl: redisDb.url, postgresUrl: db.url },
      secrets: { apiKey, jwtSecret, workerSecret: randomBytes(16).toString('hex') },
      origins: { urls: { primary: origins.info.primaryUrl, canary: origins.info.canaryUrl } },
      upstash: { external: { url: upstash.info.url, token: upstashToken } },
      edge: {
        onLog: (line) => {
          edgeLog.lines++;
          if (line.includes('"msg":"request"')) return edgeTrace.record(line);
          if (line.startsWith('stack: ')) return; // the second line of a workerd error, counted with the first
          if (line.includes('"msg":"store error"')) edgeLog.storeFallbacks++;
          else if (/disconnected: .*(Connection reset by peer|Broken pipe)/.test(line)) edgeLog.clientDisconnects++;
          else {
            edgeLog.other++;
            // Rare and worth seeing (startup failures, unexpected errors); bounded so a broken run stays readable.
            if (edgeLog.other <= 20) console.error(`  edge: ${line}`);
          }
        },
      },
    }),
    (c) => c.close(),
  );
  const edge = cloud.edge;
  const edgeBindings = cloud.edgeBindings;
  if (edge === null || edgeBindings === null) throw new Error('the local cloud started without its edge');
  const neon = cloud.neon.current;
  const edgePid = edge.pid;

  const probeBindings = {
    PRIMARY_URL: origins.info.primaryUrl,
    CANARY_URL: origins.info.canaryUrl,
    UPSTASH_URL: upstash.info.url,
    UPSTASH_TOKEN: upstashToken,
    COHORT_KEY: PROBE_COHORT_KEY,
  };
  const probe = stack.add('probe', await startWorkerModule('probe-worker.ts', probeBindings), (p) => p.close());
  const probePid = newWorkerdPid([edgePid]);
  const floor = stack.add('floor worker', await startWorkerModule('floor-worker.ts', {}), (f) => f.close());
  const floorPid = newWorkerdPid([edgePid, probePid]);

  const seedConfig: SeedAppChildConfig = { redisUrl: redisDb.url, databaseUrl: db.url, canaryUrl: origins.info.canaryUrl, jwtSecret };
  const seedApp = stack.add('seed app', await startChildService<SeedAppInfo>('seed-app/seed-app-main.ts', seedConfig), (c) => c.close());

  const baselineRef = process.env.BENCH_BASELINE_REF ?? DEFAULT_BASELINE_REF;
  let baseline: BaselineEdge | null = null;
  if (baselineRef !== '') {
    // Its own Redis database: the two builds cache the cohort differently, and must not invalidate each other.
    const build = await buildBaselineEdge(baselineRef);
    const baselineRedis = stack.add('baseline redis reservation', await reserveRedisDb(), (r) => r.close());
    const baselineUpstash = stack.add(
      'baseline upstash endpoint',
      await startChildService<UpstashInfo>('services/upstash-main.ts', { redisUrl: baselineRedis.url, token: upstashToken } satisfies UpstashChildConfig),
      (c) => c.close(),
    );
    const counter = { logLines: 0 };
    const baselineCloud = stack.add(
      'baseline edge',
      await startLocalCloud({
        stores: { redisUrl: baselineRedis.url, postgresUrl: db.url },
        secrets: { apiKey, jwtSecret, workerSecret: randomBytes(16).toString('hex') },
        origins: { urls: { primary: origins.info.primaryUrl, canary: origins.info.canaryUrl } },
        upstash: { external: { url: baselineUpstash.info.url, token: upstashToken } },
        edge: { build, onLog: () => void counter.logLines++ },
      }),
      (c) => c.close(),
    );
    if (baselineCloud.edge === null) throw new Error('the baseline edge did not start');
    baseline = {
      build,
      edge: baselineCloud.edge,
      upstash: baselineUpstash,
      neon: baselineCloud.neon.current,
      get logLines() {
        return counter.logLines;
      },
    };
  }

  return { apiKey, jwtSecret, db, pool, redis, origins, upstash, neon, edge, edgeBindings, edgePid, edgeLog, edgeTrace, probe, probeBindings, probePid, floor, floorPid, seedApp, baseline };
}
