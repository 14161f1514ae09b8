import { Queue } from 'bullmq';
import type { Job } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLIPS_STREAM_KEY } from '../../core/membership/index.js';
import { FLIPS_GROUP } from '../../origin/queues/flips-consumer.js';
import { rolloutBucket } from '../../core/rollout/bucket.js';
import { randomId, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import { peakRssMiB, resetPeakRss, rssMiB } from '../../dev/process/process-memory.js';
import type { SeededPlatform } from '../../testkit/origin-fixtures.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { startOriginApp, startOriginWorker, stopAll } from '../../dev/origin/origin-processes.js';
import type { LogLine, ManagedProcess, OriginTopology, StartedApp } from '../../dev/origin/origin-processes.js';
import { connectRunEvents } from '../../testkit/origin-socket.js';
import type { RunEventsClient } from '../../testkit/origin-socket.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const PRIMARY_VERSION = '0.1.0';
const CANARY_VERSION = '0.2.0-canary';

type RunJob = { runId: string; platformId: string; flowId?: string; definition?: unknown; payload?: unknown };
const PAGE_SIZE = 7;
const APP_HEAP_MIB = 96;

describe('flipping a platform moves its queued work', () => {
  const secrets = randomSecrets();
  let redisDb: ReservedRedisDb;
  let db: TestDatabase;
  let pool: pg.Pool;
  let redis: Redis;
  let workerJobs: Queue<RunJob>;
  let canaryWorkerJobs: Queue<RunJob>;
  let topology: OriginTopology;
  let primary: StartedApp;
  let canary: StartedApp;
  let edge: OriginEdge;
  const workers: ManagedProcess[] = [];
  const clients: RunEventsClient[] = [];

  beforeAll(async () => {
    redisDb = await reserveRedisDb();
    db = await createTestDatabase();
    pool = db.pool({ max: 4 });
    redis = new Redis(redisDb.url, { maxRetriesPerRequest: null });
    workerJobs = new Queue<RunJob>('workerJobs', { connection: redis });
    canaryWorkerJobs = new Queue<RunJob>('canaryWorkerJobs', { connection: redis });
    for (const q of [workerJobs, canaryWorkerJobs]) q.on('error', (error) => process.stderr.write(`test queue error: ${error.message}\n`));
    redis.on('error', (error) => process.stderr.write(`test redis error: ${error.message}\n`));
    // A small page, so every flip below moves its backlog across many pages; and a V8 heap smaller than the 100 MiB
    // backlog of the memory test, so an app that loaded the backlog at once would die of it instead of passing.
    topology = {
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      ...secrets,
      extra: { AP_FLIP_MOVE_PAGE_SIZE: String(PAGE_SIZE), NODE_OPTIONS: `--max-old-space-size=${APP_HEAP_MIB}` },
    };
    [primary, canary] = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: PRIMARY_VERSION }),
      startOriginApp(topology, { name: 'canary-app', version: CANARY_VERSION, canary: true }),
    ]);
    edge = await startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primary.url, canaryUrl: canary.url, ...secrets });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await edge?.close();
    await stopAll(workers);
    await stopAll([primary?.process, canary?.process]);
    await workerJobs?.close();
    await canaryWorkerJobs?.close();
    await redis?.quit();
    await db?.close();
    await redisDb?.close();
  });

  const webhook = async (target: { url: string }, flowId: string, n: number): Promise<string> => {
    const res = await fetch(`${target.url}/v1/webhooks/${flowId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n }),
    });
    expect(res.status).toBe(200);
    return ((await res.json()) as { runId: string }).runId;
  };
  const jobsOf = async (queue: Queue<RunJob>, platformId: string): Promise<Job<RunJob>[]> =>
    (await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active'])).filter((j) => j.data.platformId === platformId);
  /** Resolves with the app line (of either app) reporting that the flip of `platformId` was handled. */
  const flipHandled = (platformId: string, toCanary: boolean): Promise<LogLine> =>
    Promise.any(
      [primary, canary].map((a) =>
        a.process.waitForLog((l) => l.msg === 'flip handled' && l.platformId === platformId && l.choice === (toCanary ? 'in' : 'out'), 60_000),
      ),
    );
  /** Starts one worker per fleet (once); until then jobs only queue up. */
  const ensureWorkers = async (): Promise<[ManagedProcess, ManagedProcess]> => {
    if (workers.length === 0) {
      workers.push(
        ...(await Promise.all([
          startOriginWorker(topology, { name: 'primary-worker', version: PRIMARY_VERSION, frontendUrl: primary.url, canary: false }),
          startOriginWorker(topology, { name: 'canary-worker', version: CANARY_VERSION, frontendUrl: canary.url, canary: true }),
        ])),
      );
    }
    return workers as [ManagedProcess, ManagedProcess];
  };
  const eventsOn = async (app: StartedApp, platform: SeededPlatform): Promise<RunEventsClient> => {
    const client = await connectRunEvents(app.url, await signPrincipalJwt(secrets.jwtSecret, platform.platformId));
    clients.push(client);
    return client;
  };

  // Delayed jobs (retries waiting out their backoff), so no worker takes them while the test watches them move.
  const delayed = async (platform: SeededPlatform, queue: Queue<RunJob>, name: string): Promise<string> => {
    const runId = crypto.randomUUID();
    await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', $4)`, [
      runId,
      platform.flowId,
      platform.platformId,
      name,
    ]);
    await queue.add('flow-run', { runId, platformId: platform.platformId, flowId: platform.flowId, definition: null, payload: {} }, { jobId: runId, delay: 10 * 60_000 });
    return runId;
  };
  const ids = async (queue: Queue<RunJob>, platforms: SeededPlatform[]): Promise<string[]> =>
    (await Promise.all(platforms.map((p) => jobsOf(queue, p.platformId)))).flat().map((j) => String(j.id)).sort();
  /** Resolves when one app has handled the next change of every platform (entries already handled do not count). */
  const rebalanced = (): Promise<unknown> =>
    Promise.any(
      [primary, canary].map((a) => {
        const isRebalance = (l: LogLine): boolean => l.msg === 'flip handled' && l.scope === 'all';
        return a.process.waitForLogCount(isRebalance, a.process.logs.filter(isRebalance).length + 1, 60_000);
      }),
    );

  // First: no worker runs yet, so the backlog stays queued.
  it('moves a backlog far larger than its page while holding one page in memory', async () => {
    const [flipped, bystander] = (await seedPlatforms(pool, [{ canary: false }, { canary: false }])) as [SeededPlatform, SeededPlatform];
    // The backlog goes straight into BullMQ (as queued runs would sit there), so the apps' heaps are clean before
    // the flip and what the flip itself holds in memory is what the measurement shows.
    const blob = 'x'.repeat(512 * 1024);
    const queued: string[] = [];
    for (let i = 0; i < 200; i += 10) {
      const batch = Array.from({ length: 10 }, (_, k) => ({ runId: `run_${crypto.randomUUID()}`, platformId: flipped.platformId, n: i + k }));
      const other = { runId: `run_${crypto.randomUUID()}`, platformId: bystander.platformId, n: i };
      for (const run of [...batch, other]) {
        const platform = run.platformId === flipped.platformId ? flipped : bystander;
        await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [
          run.runId,
          platform.flowId,
          platform.platformId,
        ]);
      }
      await workerJobs.addBulk(
        [...batch, other].map((run) => ({
          name: 'flow-run',
          data: { runId: run.runId, flowId: run.platformId === flipped.platformId ? flipped.flowId : bystander.flowId, platformId: run.platformId, definition: null, payload: { n: run.n, blob } },
          opts: { jobId: run.runId },
        })),
      );
      queued.push(...batch.map((run) => run.runId));
    }
    const apps = [primary, canary];
    for (const a of apps) resetPeakRss(a.process.pid);
    const rssBefore = apps.map((a) => rssMiB(a.process.pid));
    const handled = flipHandled(flipped.platformId, true);
    expect((await edge.flip(flipped.platformId, true)).status).toBe(200);
    const line = await handled;
    const handler = apps.find((a) => a.process.logs.includes(line)) ?? primary;
    const growth = peakRssMiB(handler.process.pid) - (rssBefore[apps.indexOf(handler)] ?? 0);
    // Reported, not asserted: RSS also holds garbage V8 has not collected yet. The bound is the heap limit above.
    console.log(`flip of a 100 MiB backlog (page ${PAGE_SIZE}, heap limit ${APP_HEAP_MIB} MiB): app RSS +${growth.toFixed(0)} MiB at peak`);
    expect(handler.process.exitCode).toBeUndefined();
    const moved = handler.process.find('platform jobs moved', { platformId: flipped.platformId }).at(-1);
    expect(moved).toMatchObject({ moved: 200, skipped: 0 });
    expect(Number(moved?.pages)).toBeGreaterThan(200 / PAGE_SIZE);
    expect(new Set((await jobsOf(canaryWorkerJobs, flipped.platformId)).map((j) => j.id))).toEqual(new Set(queued));
    expect(await jobsOf(workerJobs, flipped.platformId)).toHaveLength(0);
    expect(await jobsOf(workerJobs, bystander.platformId)).toHaveLength(20);
  });

  it('moves 100 queued jobs to the canary queue, loses and duplicates none, and routes jobs enqueued during the flip', async () => {
    const [flipped, bystander] = (await seedPlatforms(pool, [{ canary: false }, { canary: false }])) as [SeededPlatform, SeededPlatform];
    const before = await Promise.all(Array.from({ length: 100 }, (_, i) => webhook(primary, flipped.flowId, i)));
    const untouched = await Promise.all(Array.from({ length: 20 }, (_, i) => webhook(primary, bystander.flowId, i)));
    expect(await jobsOf(workerJobs, flipped.platformId)).toHaveLength(100);

    // Webhooks keep arriving (at both apps, bypassing the edge's routing) while the flip is acknowledged.
    const handled = flipHandled(flipped.platformId, true);
    const during = Promise.all(Array.from({ length: 50 }, (_, i) => webhook(i % 2 === 0 ? primary : canary, flipped.flowId, 100 + i)));
    const flip = await edge.flip(flipped.platformId, true);
    expect(flip.status).toBe(200);
    const duringIds = await during;
    await handled;

    const moved = await jobsOf(canaryWorkerJobs, flipped.platformId);
    const ids = moved.map((j) => j.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids)).toEqual(new Set([...before, ...duringIds]));
    expect(await jobsOf(workerJobs, flipped.platformId)).toHaveLength(0);
    expect((await jobsOf(workerJobs, bystander.platformId)).map((j) => j.id).sort()).toEqual([...untouched].sort());
    const { rows } = await pool.query<{ queue: string; n: string }>(
      'SELECT queue, count(*) AS n FROM flow_run WHERE platform_id = $1 GROUP BY queue',
      [flipped.platformId],
    );
    expect(rows).toEqual([{ queue: 'canaryWorkerJobs', n: '150' }]);

    // Exactly one app handled the flip entry, and acked it.
    const lines = [...primary.process.find('flip handled'), ...canary.process.find('flip handled')].filter((l) => l.platformId === flipped.platformId);
    expect(lines).toHaveLength(1);
    const pending = (await redis.call('XPENDING', FLIPS_STREAM_KEY, FLIPS_GROUP)) as unknown[];
    expect(pending[0]).toBe(0);

    // Now let the fleets run: every run of the flipped platform executes once, on the canary fleet.
    const flippedEvents = await eventsOn(primary, flipped);
    const bystanderEvents = await eventsOn(primary, bystander);
    const [primaryWorker, canaryWorker] = await ensureWorkers();
    await flippedEvents.waitForCount(150);
    await bystanderEvents.waitForCount(20);
    expect(flippedEvents.events.every((e) => e.workerVersion === CANARY_VERSION && e.status === 'SUCCEEDED')).toBe(true);
    expect(new Set(flippedEvents.events.map((e) => e.runId)).size).toBe(150);
    expect(bystanderEvents.events.every((e) => e.workerVersion === PRIMARY_VERSION)).toBe(true);
    const flippedIds = new Set([...before, ...duringIds]);
    const executedBy = (w: ManagedProcess): string[] => w.find('job executing').map((l) => String(l.runId)).filter((id) => flippedIds.has(id));
    expect(executedBy(primaryWorker)).toHaveLength(0);
    expect(executedBy(canaryWorker)).toHaveLength(150);
  });

  it('moves delayed jobs back when a platform leaves the canary, keeping their remaining delay', async () => {
    const [platform] = (await seedPlatforms(pool, [{ canary: false }])) as [SeededPlatform];
    const entered = flipHandled(platform.platformId, true);
    expect((await edge.flip(platform.platformId, true)).status).toBe(200);
    await entered;
    // A retry waiting out its backoff: a QUEUED run whose job sits in the delayed set.
    const runId = crypto.randomUUID();
    await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'canaryWorkerJobs')`, [
      runId,
      platform.flowId,
      platform.platformId,
    ]);
    await canaryWorkerJobs.add('flow-run', { runId, platformId: platform.platformId, flowId: platform.flowId, definition: null, payload: {} } as RunJob, {
      jobId: runId,
      delay: 10 * 60_000,
    });
    const handled = flipHandled(platform.platformId, false);
    expect((await edge.flip(platform.platformId, false)).status).toBe(200);
    await handled;
    expect(await jobsOf(canaryWorkerJobs, platform.platformId)).toHaveLength(0);
    const [job] = await jobsOf(workerJobs, platform.platformId);
    expect(job?.id).toBe(runId);
    expect(await job?.getState()).toBe('delayed');
    expect(job?.delay).toBeGreaterThan(9 * 60_000);
  });

  it('moves every waiting canary job to workerJobs on pause, and back on resume: none lost, none duplicated', async () => {
    const [first, second, bystander] = (await seedPlatforms(pool, [{ canary: false }, { canary: false }, { canary: false }])) as [
      SeededPlatform,
      SeededPlatform,
      SeededPlatform,
    ];
    for (const p of [first, second]) {
      const entered = flipHandled(p.platformId, true);
      expect((await edge.flip(p.platformId, true)).status).toBe(200);
      await entered;
    }
    const canaryRuns = [
      ...(await Promise.all(Array.from({ length: 12 }, () => delayed(first, canaryWorkerJobs, 'canaryWorkerJobs')))),
      ...(await Promise.all(Array.from({ length: 9 }, () => delayed(second, canaryWorkerJobs, 'canaryWorkerJobs')))),
    ];
    const primaryRuns = await Promise.all(Array.from({ length: 5 }, () => delayed(bystander, workerJobs, 'workerJobs')));

    let handled = rebalanced();
    expect(await (await edge.call('POST', '/v1/admin/canary/pause', { reason: 'drill' })).json()).toEqual({ paused: true });
    await handled;
    expect(await ids(canaryWorkerJobs, [first, second, bystander])).toEqual([]);
    expect(await ids(workerJobs, [first, second, bystander])).toEqual([...canaryRuns, ...primaryRuns].sort());

    handled = rebalanced();
    expect(await (await edge.call('POST', '/v1/admin/canary/resume')).json()).toEqual({ paused: false });
    await handled;
    expect(await ids(canaryWorkerJobs, [first, second, bystander])).toEqual([...canaryRuns].sort());
    expect(await ids(workerJobs, [first, second, bystander])).toEqual([...primaryRuns].sort());
    const { rows } = await pool.query<{ queue: string; n: string }>(
      `SELECT queue, count(*) AS n FROM flow_run WHERE platform_id = ANY($1) GROUP BY queue ORDER BY queue`,
      [[first.platformId, second.platformId, bystander.platformId]],
    );
    expect(rows).toEqual([
      { queue: 'canaryWorkerJobs', n: '21' },
      { queue: 'workerJobs', n: '5' },
    ]);
  });

  it('moves the waiting jobs of exactly the platforms that changed side when the rollout changes: none lost, none duplicated', async () => {
    const { salt } = (await (await edge.call('GET', '/v1/admin/canary/rollout')).json()) as { salt: string };
    // Three platforms a 50% rollout takes and three it leaves, whatever the salt.
    const inside: string[] = [];
    const outside: string[] = [];
    while (inside.length < 3 || outside.length < 3) {
      const id = randomId('plat');
      const side = (await rolloutBucket(salt, id)) < 5_000 ? inside : outside;
      if (side.length < 3) side.push(id);
    }
    const specs = [...inside, ...outside].map((id) => ({ id, canary: false }));
    const seeded = await seedPlatforms(pool, specs);
    const taken = seeded.slice(0, 3);
    const left = seeded.slice(3);
    const runsOf = new Map<SeededPlatform, string[]>();
    for (const p of seeded) runsOf.set(p, await Promise.all(Array.from({ length: 4 }, () => delayed(p, workerJobs, 'workerJobs'))));
    const runs = (ps: SeededPlatform[]): string[] => ps.flatMap((p) => runsOf.get(p) ?? []).sort();

    let handled = rebalanced();
    expect((await edge.call('PUT', '/v1/admin/canary/rollout', { percent: 50, reason: 'half' })).status).toBe(200);
    await handled;
    expect(await ids(canaryWorkerJobs, seeded)).toEqual(runs(taken));
    expect(await ids(workerJobs, seeded)).toEqual(runs(left));

    handled = rebalanced();
    expect((await edge.call('PUT', '/v1/admin/canary/rollout', { percent: 0 })).status).toBe(200);
    await handled;
    expect(await ids(canaryWorkerJobs, seeded)).toEqual([]);
    expect(await ids(workerJobs, seeded)).toEqual(runs(seeded));
    const { rows } = await pool.query<{ queue: string; n: string }>(
      `SELECT queue, count(*) AS n FROM flow_run WHERE platform_id = ANY($1) GROUP BY queue ORDER BY queue`,
      [seeded.map((p) => p.platformId)],
    );
    expect(rows).toEqual([{ queue: 'workerJobs', n: '24' }]);
  });

  it('has a worker that picks a job of the other fleet re-route it instead of running it', async () => {
    // Seeded outside the canary and flipped through the edge: a row written behind the cache's back would be stale.
    const [platform] = (await seedPlatforms(pool, [{ canary: false }])) as [SeededPlatform];
    const handled = flipHandled(platform.platformId, true);
    expect((await edge.flip(platform.platformId, true)).status).toBe(200);
    await handled;
    const events = await eventsOn(primary, platform);
    await ensureWorkers();
    // A stale copy on the primary queue (e.g. enqueued by a client that raced a flip): the primary worker must not run it.
    const runId = crypto.randomUUID();
    await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [
      runId,
      platform.flowId,
      platform.platformId,
    ]);
    await workerJobs.add('flow-run', { runId, platformId: platform.platformId, flowId: platform.flowId, definition: null, payload: { x: 1 } } as RunJob, {
      jobId: runId,
    });
    expect(await events.waitFor(runId)).toMatchObject({ status: 'SUCCEEDED', workerVersion: CANARY_VERSION });
    const [primaryWorker, canaryWorker] = await ensureWorkers();
    expect(primaryWorker.find('job rerouted', { runId })).toHaveLength(1);
    expect(primaryWorker.find('job executing', { runId })).toHaveLength(0);
    expect(canaryWorker.find('job executing', { runId })).toHaveLength(1);
    const { rows } = await pool.query<{ queue: string }>('SELECT queue FROM flow_run WHERE id = $1', [runId]);
    expect(rows[0]?.queue).toBe('canaryWorkerJobs');
  });
});
