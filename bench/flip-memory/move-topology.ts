import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { CloseStack } from '../../core/lifecycle/close-all.js';
import { startOriginApp } from '../../dev/origin/origin-processes.js';
import type { LogLine, StartedApp } from '../../dev/origin/origin-processes.js';
import { rssMiB } from '../../dev/process/process-memory.js';
import type { FlowRunJob } from '../../origin/queues/flow-run-job.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from '../../origin/queues/queue-names.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { randomSecrets } from '../../testkit/origin-fixtures.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { CleanupStack } from '../support/cleanup-stack.js';

/** What a move bench runs on, all its own: a Redis database, a Postgres database, a primary and a canary app, an edge. */
export interface MoveTopology {
  pool: pg.Pool;
  /** The bench's connection: seeding, progress polls, the final check. */
  redis: Redis;
  /** Only the Redis memory poller's, so its reads never queue behind the bench's pipelines. */
  infoRedis: Redis;
  /** `workerJobs`, where the backlog is seeded. */
  source: Queue<FlowRunJob>;
  /** `canaryWorkerJobs`, where the move takes it. */
  target: Queue<FlowRunJob>;
  /** The primary app, then the canary app. */
  apps: [StartedApp, StartedApp];
  edge: OriginEdge;
}

export interface MoveTopologyOptions {
  /** Prefix of log lines and cleanup steps, e.g. `flip memory`. */
  label: string;
  /** Environment of both apps beyond the topology's (page size, claim idle time, NODE_OPTIONS). */
  appEnv: Record<string, string>;
  /** Starts the canary app as the canary build (AP_IS_CANARY_APP): it then runs no ticks, as in production. */
  canaryApp?: boolean;
  log: (line: string) => void;
  /** The caller's cleanup stack, when it owns SIGINT/SIGTERM (see measureFlipMemory). */
  cleanup?: CleanupStack;
}

const PRIMARY_VERSION = '0.1.0';
const CANARY_VERSION = '0.2.0-canary';

/**
 * Starts a move bench's stores, apps and edge, registering each on `stack` as it starts (so a failure half-way still
 * closes what did start). No worker runs: the backlog stays queued until a move takes it.
 */
export async function startMoveTopology(stack: CloseStack, options: MoveTopologyOptions): Promise<MoveTopology> {
  const { label, log } = options;
  const redisDb = stack.add(`${label} redis db`, await reserveRedisDb(), (r) => r.close());
  const db = stack.add(`${label} database`, await createTestDatabase(), (d) => d.close());
  const pool = db.pool({ max: 2 });
  const connect = (name: string, maxRetriesPerRequest: number | null): Redis => {
    const redis = stack.add(name, new Redis(redisDb.url, { maxRetriesPerRequest }), async (r) => {
      await r.quit();
    });
    redis.on('error', (error) => log(`${label}: redis error: ${error.message}`));
    return redis;
  };
  const redis = connect(`${label} redis`, null);
  const infoRedis = connect(`${label} info redis`, 1);
  const open = (name: string): Queue<FlowRunJob> => {
    const queue = stack.add(`${label} queue ${name}`, new Queue<FlowRunJob>(name, { connection: redis }), (q) => q.close());
    queue.on('error', (error) => log(`${label}: queue ${name} error: ${error.message}`));
    return queue;
  };
  const source = open(WORKER_JOBS);
  const target = open(CANARY_WORKER_JOBS);

  const secrets = randomSecrets();
  const topology = { redisUrl: redisDb.url, postgresUrl: db.url, ...secrets, extra: options.appEnv };
  const start = async (name: string, version: string, canary: boolean): Promise<StartedApp> =>
    stack.add(name, await startOriginApp(topology, { name, version, canary }), (a) => a.close());
  // One after the other, so a failure in the second still leaves the first registered for cleanup.
  const primary = await start('primary-app', PRIMARY_VERSION, false);
  const canary = await start('canary-app', CANARY_VERSION, options.canaryApp ?? false);
  const edge = stack.add(
    `${label} edge`,
    await startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primary.url, canaryUrl: canary.url, ...secrets }),
    (e) => e.close(),
  );
  // Miniflare installs its own signal hook at start; the caller's stack must stay the one that handles a Ctrl-C.
  options.cleanup?.ownSignals();
  return { pool, redis, infoRedis, source, target, apps: [primary, canary], edge };
}

/** A process's VmRSS in MiB, or NaN once it exited (the wait for its log line reports that). */
export function currentRssMiB(pid: number): number {
  try {
    return rssMiB(pid);
  } catch {
    return Number.NaN;
  }
}

/** A numeric field of an app's log line, NaN when absent. */
export function numberField(line: LogLine, key: string): number {
  const value = line[key];
  return typeof value === 'number' ? value : Number.NaN;
}

/** Seconds from `startedAt` (epoch ms) to the line's `time`. */
export function secondsSince(startedAt: number, line: LogLine): number {
  const at = typeof line.time === 'string' ? Date.parse(line.time) : Number.NaN;
  return (at - startedAt) / 1000;
}
