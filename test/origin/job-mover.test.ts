import { Worker } from 'bullmq';
import type { JobType } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLIPS_STREAM_KEY } from '../../core/membership/index.js';
import type { LogFields, Logger } from '../../origin/logger.js';
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

/** Every log line a logger was given, to read a move's report the way operators do. */
function recordingLogger(): { logger: Logger; lines: (LogFields & { msg: string })[] } {
  const lines: (LogFields & { msg: string })[] = [];
  const logger: Logger = {
    info: (msg, fields) => lines.push({ msg, ...fields }),
    warn: (msg, fields) => lines.push({ msg, ...fields }),
    error: (msg, fields) => lines.push({ msg, ...fields }),
    child: () => logger,
  };
  return { logger, lines };
}

/** A repository whose first `moveQueuedRuns` first lets `meanwhile` act: what workers and other apps do between a mover's read and its move. */
class RacingRepository extends FlowRunRepository {
  calls = 0;
  constructor(
    pool: pg.Pool,
    private readonly meanwhile: () => Promise<void>,
  ) {
    super(pool);
  }

  override async moveQueuedRuns(ids: readonly string[], queue: string): Promise<string[]> {
    if (this.calls++ === 0) await this.meanwhile();
    return super.moveQueuedRuns(ids, queue);
  }
}

const STATES: readonly JobType[] = ['waiting', 'delayed', 'prioritized', 'active', 'completed', 'failed'];

/** Each place a job id sits, as `queue:state`, across both fleets and every state (a job moved once is in one place). */
async function placesOf(fleets: FleetQueues, id: string): Promise<string[]> {
  const places: string[] = [];
  for (const name of [WORKER_JOBS, CANARY_WORKER_JOBS] as const) {
    for (const state of STATES) if ((await fleets.get(name).getRanges([state], 0, -1)).includes(id)) places.push(`${name}:${state}`);
  }
  return places;
}

const queueOfRun = async (id: string): Promise<{ status: string; queue: string } | undefined> =>
  (await pool.query<{ status: string; queue: string }>('SELECT status, queue FROM flow_run WHERE id = $1', [id])).rows[0];

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

describe('JobMover batches', () => {
  it('moves waiting, prioritized and delayed jobs over many pages exactly once, keeping each priority and what is left of each delay', async () => {
    const platformId = await seedPlatform(pool);
    const { flowId } = await seedFlow(pool, platformId);
    const kinds = { waiting: [] as string[], prioritized: [] as string[], delayed: [] as string[] };
    const due = new Map<string, number>();
    const priority = new Map<string, number>();
    for (let i = 0; i < 5; i++) {
      for (const kind of ['waiting', 'prioritized', 'delayed'] as const) {
        const runId = crypto.randomUUID();
        await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [runId, flowId, platformId]);
        const opts = kind === 'delayed' ? { delay: 600_000 + i * 1000 } : kind === 'prioritized' ? { priority: i + 1 } : {};
        const job = await queues.get(WORKER_JOBS).add(FLOW_RUN_JOB_NAME, { runId, platformId, flowId, definition: null, payload: { kind, i } }, { jobId: runId, ...opts });
        if (kind === 'delayed') due.set(runId, job.timestamp + job.delay);
        if (kind === 'prioritized') priority.set(runId, i + 1);
        kinds[kind].push(runId);
      }
    }
    const { logger, lines } = recordingLogger();
    // A page of 4 ids: each state's backlog of 5 takes two pages, and the last page of one state is a short one.
    const report = await new JobMover({ queues, repo, logger, pageSize: 4 }).movePlatform(platformId, CANARY_WORKER_JOBS);

    expect(report).toEqual({ moved: 15, skipped: 0 });
    expect(lines.find((l) => l.msg === 'platform jobs moved')).toMatchObject({ platformId, moved: 15, skipped: 0 });
    for (const [kind, ids] of Object.entries(kinds)) {
      for (const id of ids) expect(await placesOf(queues, id)).toEqual([`${CANARY_WORKER_JOBS}:${kind}`]);
    }
    for (const [id, priorityBefore] of priority) expect((await queues.get(CANARY_WORKER_JOBS).getJob(id))?.priority).toBe(priorityBefore);
    for (const [id, dueBefore] of due) {
      const moved = await queues.get(CANARY_WORKER_JOBS).getJob(id);
      // Re-added with the remaining delay: due when it was due before, up to the milliseconds the move itself took.
      const dueAfter = (moved?.timestamp ?? 0) + (moved?.delay ?? 0);
      expect(dueAfter).toBeGreaterThanOrEqual(dueBefore - 1);
      expect(dueAfter - dueBefore).toBeLessThan(60_000);
    }
    const moved = await queues.get(CANARY_WORKER_JOBS).getJob(kinds.waiting[0] ?? '');
    expect(moved?.data).toEqual({ runId: kinds.waiting[0], platformId, flowId, definition: null, payload: { kind: 'waiting', i: 0 } });
    const { rows } = await pool.query<{ queue: string; n: string }>('SELECT queue, count(*) AS n FROM flow_run WHERE platform_id = $1 GROUP BY queue', [platformId]);
    expect(rows).toEqual([{ queue: CANARY_WORKER_JOBS, n: '15' }]);
  });

  it('keeps waiting jobs in the order workers take them, across pages, ahead of jobs that were already waiting on the target', async () => {
    const [moving, resident] = [await seedPlatform(pool), await seedPlatform(pool)];
    const { flowId } = await seedFlow(pool, moving);
    const waiting = async (platformId: string, queue: typeof WORKER_JOBS | typeof CANARY_WORKER_JOBS): Promise<string> => {
      const runId = crypto.randomUUID();
      await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', $4)`, [runId, flowId, platformId, queue]);
      await queues.get(queue).add(FLOW_RUN_JOB_NAME, { runId, platformId, flowId, definition: null, payload: {} }, { jobId: runId });
      return runId;
    };
    const alreadyThere = await waiting(resident, CANARY_WORKER_JOBS);
    const oldestFirst: string[] = [];
    for (let i = 0; i < 7; i++) oldestFirst.push(await waiting(moving, WORKER_JOBS));
    await new JobMover({ queues, repo, logger: quiet, pageSize: 3 }).movePlatform(moving, CANARY_WORKER_JOBS);
    // Ascending is the order workers take jobs in (from the tail of the wait list).
    const takenInOrder = (await queues.get(CANARY_WORKER_JOBS).getRanges(['waiting'], 0, -1, true)).filter((id) => id === alreadyThere || oldestFirst.includes(id));
    expect(takenInOrder).toEqual([...oldestFirst, alreadyThere]);
  });

  it('moves each job in a batch of its own under a byte budget smaller than one job, and still moves them all', async () => {
    const { platformId, runIds } = await backlog(7);
    const counting = new RacingRepository(pool, () => Promise.resolve());
    const { logger, lines } = recordingLogger();
    const report = await new JobMover({ queues, repo: counting, logger, pageSize: 100, batchBytes: 1 }).movePlatform(platformId, CANARY_WORKER_JOBS);
    expect(report).toEqual({ moved: 7, skipped: 0 });
    expect(counting.calls).toBe(7);
    expect(lines.find((l) => l.msg === 'platform jobs moved')).toMatchObject({ batches: 7, moved: 7 });
    expect(await idsIn(CANARY_WORKER_JOBS, platformId)).toEqual([...runIds].sort());
    expect(await idsIn(WORKER_JOBS, platformId)).toEqual([]);
  });

  it('moves a page in one batch when the budget holds it: one repository call for many jobs', async () => {
    const { platformId } = await backlog(30);
    const counting = new RacingRepository(pool, () => Promise.resolve());
    const report = await new JobMover({ queues, repo: counting, logger: quiet, pageSize: 100 }).movePlatform(platformId, CANARY_WORKER_JOBS);
    expect(report).toEqual({ moved: 30, skipped: 0 });
    expect(counting.calls).toBe(1);
  });
});

describe('JobMover when workers and other apps act between its read and its move', () => {
  // A Redis database of its own: the worker below takes "the next waiting job", which must be one of this test's.
  let ownRedisDb: ReservedRedisDb;
  let ownRedis: Redis;
  let ownQueues: FleetQueues;

  beforeAll(async () => {
    ownRedisDb = await reserveRedisDb();
    ownRedis = new Redis(ownRedisDb.url, { maxRetriesPerRequest: null });
    ownQueues = createFleetQueues({ connection: ownRedis, attempts: 1, backoffMs: 1000, logger: quiet });
  });

  afterAll(async () => {
    await ownQueues?.close();
    await ownRedis?.quit();
    await ownRedisDb?.close();
  });

  it('never duplicates a job a worker took or another app moved meanwhile: each run still runs on one fleet only', async () => {
    const platformId = await seedPlatform(pool);
    const { flowId } = await seedFlow(pool, platformId);
    const runIds: string[] = [];
    for (let i = 0; i < 6; i++) {
      const runId = crypto.randomUUID();
      await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [runId, flowId, platformId]);
      await ownQueues.get(WORKER_JOBS).add(FLOW_RUN_JOB_NAME, { runId, platformId, flowId, definition: null, payload: { i } }, { jobId: runId });
      runIds.push(runId);
    }
    const [claimed, taken, movedElsewhere, ...untouched] = runIds as [string, string, string, ...string[]];
    const worker = new Worker(WORKER_JOBS, null, { connection: ownRedis, autorun: false });
    worker.on('error', () => undefined);
    const racing = new RacingRepository(pool, async () => {
      // A primary worker takes the two oldest jobs; it claims the first run and has not claimed the second yet.
      expect((await worker.getNextJob('worker-token', { block: false }))?.id).toBe(claimed);
      expect((await worker.getNextJob('worker-token', { block: false }))?.id).toBe(taken);
      expect(await repo.claimRun(claimed, WORKER_JOBS, '0.1.0', 'claim-1')).toEqual({ outcome: 'claimed' });
      // Another app moves the third job first (its own add, then its own removal).
      const job = await ownQueues.get(WORKER_JOBS).getJob(movedElsewhere);
      await ownQueues.get(CANARY_WORKER_JOBS).add(FLOW_RUN_JOB_NAME, job?.data ?? { runId: movedElsewhere, platformId, flowId, definition: null, payload: {} }, { jobId: movedElsewhere });
      await ownQueues.get(WORKER_JOBS).remove(movedElsewhere);
    });
    try {
      const report = await new JobMover({ queues: ownQueues, repo: racing, logger: quiet, pageSize: 10 }).movePlatform(platformId, CANARY_WORKER_JOBS);

      // The claimed run stays with the worker running it; the other app's move is not repeated.
      expect(report).toEqual({ moved: 4, skipped: 1 });
      expect(await placesOf(ownQueues, claimed)).toEqual([`${WORKER_JOBS}:active`]);
      expect(await queueOfRun(claimed)).toEqual({ status: 'RUNNING', queue: WORKER_JOBS });
      expect(await placesOf(ownQueues, movedElsewhere)).toEqual([`${CANARY_WORKER_JOBS}:waiting`]);
      for (const id of untouched) expect(await placesOf(ownQueues, id)).toEqual([`${CANARY_WORKER_JOBS}:waiting`]);
      // The job taken before its claim: its source copy cannot be removed while held, but its claim now fails, so
      // only the canary copy runs.
      expect(await placesOf(ownQueues, taken)).toEqual([`${WORKER_JOBS}:active`, `${CANARY_WORKER_JOBS}:waiting`]);
      expect(await repo.claimRun(taken, WORKER_JOBS, '0.1.0', 'claim-2')).toEqual({ outcome: 'moved', queue: CANARY_WORKER_JOBS });
      expect(await repo.claimRun(taken, CANARY_WORKER_JOBS, '0.2.0-canary', 'claim-3')).toEqual({ outcome: 'claimed' });
    } finally {
      await worker.close(true);
    }
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
