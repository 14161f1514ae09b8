import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLIPS_STREAM_KEY } from '../../core/membership/index.js';
import type { Logger } from '../../origin/logger.js';
import { createFleetQueues } from '../../origin/queues/fleet-queues.js';
import type { FleetQueues } from '../../origin/queues/fleet-queues.js';
import { FLIPS_GROUP, FlipsConsumer } from '../../origin/queues/flips-consumer.js';
import type { FlipEntry } from '../../origin/queues/flips-consumer.js';
import { FLOW_RUN_JOB_NAME } from '../../origin/queues/flow-run-job.js';
import { JobMover } from '../../origin/queues/job-mover.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from '../../origin/queues/queue-names.js';
import { FlowRunRepository } from '../../origin/runs/flow-run-repository.js';
import { seedFlow, seedPlatform } from '../../dev/seed/seed-data.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// The mover and the flips consumer against real Redis (BullMQ) and Postgres, without app processes: the failure modes
// of a long move over a large backlog, reproduced deterministically.

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

let redisDb: ReservedRedisDb;
let db: TestDatabase;
let pool: pg.Pool;
let redis: Redis;
let queues: FleetQueues;
let repo: FlowRunRepository;

beforeAll(async () => {
  [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
  pool = db.pool({ max: 4 });
  redis = new Redis(redisDb.url, { maxRetriesPerRequest: null });
  queues = createFleetQueues({ connection: redis, attempts: 1, backoffMs: 1000, logger: quiet });
  repo = new FlowRunRepository(pool);
});

afterAll(async () => {
  await queues?.close();
  await redis?.quit();
  await db?.close();
  await redisDb?.close();
});

/** `n` QUEUED runs of a new platform, each a delayed job on workerJobs (no worker runs here). */
async function backlog(n: number): Promise<{ platformId: string; runIds: string[] }> {
  const platformId = await seedPlatform(pool);
  const { flowId } = await seedFlow(pool, platformId);
  const runIds: string[] = [];
  for (let i = 0; i < n; i++) {
    const runId = crypto.randomUUID();
    await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [runId, flowId, platformId]);
    await queues.get(WORKER_JOBS).add(FLOW_RUN_JOB_NAME, { runId, platformId, flowId, definition: null, payload: { i } }, { jobId: runId, delay: 600_000 });
    runIds.push(runId);
  }
  return { platformId, runIds };
}

const idsIn = async (name: typeof WORKER_JOBS | typeof CANARY_WORKER_JOBS, platformId: string): Promise<string[]> =>
  (await queues.get(name).getJobs(['waiting', 'delayed', 'prioritized'])).filter((j) => j.data.platformId === platformId).map((j) => String(j.id)).sort();

describe('JobMover.movePlatform', () => {
  it('moves every job across pages, and a page shortened by a job that vanished between reads does not end the sweep', async () => {
    const { platformId, runIds } = await backlog(12);
    // A job whose id is still listed but whose data is gone: what a worker taking it (or another mover moving it)
    // between the mover's two reads looks like. The first page of 5 then yields 4 jobs.
    const [vanished, ...rest] = runIds as [string, ...string[]];
    await redis.del(`bull:${WORKER_JOBS}:${vanished}`);
    const mover = new JobMover({ queues, repo, logger: quiet, pageSize: 5 });
    const report = await mover.movePlatform(platformId, CANARY_WORKER_JOBS);
    expect(report).toEqual({ moved: 11, skipped: 0 });
    expect(await idsIn(CANARY_WORKER_JOBS, platformId)).toEqual([...rest].sort());
    expect(await idsIn(WORKER_JOBS, platformId)).toEqual([]);
  });

  it('leaves other platforms\' jobs where they are', async () => {
    const [moving, staying] = await Promise.all([backlog(7), backlog(6)]);
    const report = await new JobMover({ queues, repo, logger: quiet, pageSize: 4 }).movePlatform(moving.platformId, CANARY_WORKER_JOBS);
    expect(report.moved).toBe(7);
    expect(await idsIn(WORKER_JOBS, staying.platformId)).toEqual([...staying.runIds].sort());
    expect(await idsIn(CANARY_WORKER_JOBS, staying.platformId)).toEqual([]);
  });
});

describe('FlipsConsumer', () => {
  it('keeps a flip it is still handling: another app never takes over a long move', async () => {
    const key = FLIPS_STREAM_KEY;
    const handled: { consumer: string; flip: FlipEntry }[] = [];
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const consumer = (name: string, handle: (flip: FlipEntry) => Promise<void>): FlipsConsumer =>
      new FlipsConsumer({
        connect: () => new Redis(redisDb.url, { maxRetriesPerRequest: null }),
        consumer: name,
        claimIdleMs: 1_500,
        blockMs: 100,
        logger: quiet,
        handle: async (flip) => {
          handled.push({ consumer: name, flip });
          await handle(flip);
        },
      });
    const first = consumer('app-a', () => slow);
    await first.start();
    const id = String(await redis.xadd(key, '*', 'platformId', 'long-move', 'canary', '1'));
    // app-a is now in the middle of a move that lasts far longer than claimIdleMs.
    for (const deadline = Date.now() + 10_000; handled.length === 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
    const second = consumer('app-b', () => Promise.resolve());
    await second.start();
    try {
      // Three claim periods: app-b's XAUTOCLAIM runs every 750 ms and would take an entry idle for 1.5 s.
      const pending = async (): Promise<unknown[]> => (await redis.xpending(key, FLIPS_GROUP, '-', '+', 10)) as unknown[];
      for (let i = 0; i < 6; i++) {
        await new Promise((r) => setTimeout(r, 750));
        expect(handled.map((h) => h.consumer)).toEqual(['app-a']);
      }
      expect(await pending()).toEqual([[id, 'app-a', expect.any(Number), 1]]);
      release();
      for (const deadline = Date.now() + 10_000; (await pending()).length > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 20));
      expect(await pending()).toEqual([]);
      expect(handled.map((h) => h.consumer)).toEqual(['app-a']);
    } finally {
      release();
      await Promise.all([first.close(), second.close()]);
    }
  });
});
