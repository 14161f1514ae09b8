import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import type { SeededPlatform } from '../../testkit/origin-fixtures.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { startOriginApp, startOriginWorker, stopAll } from '../../dev/origin/origin-processes.js';
import type { ManagedProcess, StartedApp } from '../../dev/origin/origin-processes.js';
import { connectRunEvents } from '../../testkit/origin-socket.js';
import type { RunEventsClient } from '../../testkit/origin-socket.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const PRIMARY_VERSION = '0.1.0';
const CANARY_VERSION = '0.2.0-canary';
const FLOW = { steps: [{ type: 'template', path: 'echo', template: 'n={{n}}' }] };

/** Runs `fn` over `items` with at most `limit` in flight. */
async function inParallel<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      results[index] = await fn(item, index);
    }
  });
  await Promise.all(lanes);
  return results;
}

describe('primary and canary fleets', () => {
  const secrets = randomSecrets();
  let redis: ReservedRedisDb;
  let db: TestDatabase;
  let pool: pg.Pool;
  let primary: StartedApp;
  let canary: StartedApp;
  let primaryWorker: ManagedProcess;
  let canaryWorker: ManagedProcess;
  let edge: OriginEdge;
  let platforms: SeededPlatform[];
  const clients: RunEventsClient[] = [];

  beforeAll(async () => {
    redis = await reserveRedisDb();
    db = await createTestDatabase();
    pool = db.pool({ max: 2 });
    // 10 platforms, half canary.
    platforms = await seedPlatforms(pool, Array.from({ length: 10 }, (_, i) => ({ canary: i % 2 === 0, definition: FLOW })));
    const topology = { redisUrl: redis.url, postgresUrl: db.url, ...secrets, extra: { AP_SYSTEM_JOB_INTERVAL_MS: '250' } };
    [primary, canary] = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: PRIMARY_VERSION }),
      startOriginApp(topology, { name: 'canary-app', version: CANARY_VERSION, canary: true }),
    ]);
    [primaryWorker, canaryWorker] = await Promise.all([
      startOriginWorker(topology, { name: 'primary-worker', version: PRIMARY_VERSION, frontendUrl: primary.url, canary: false }),
      startOriginWorker(topology, { name: 'canary-worker', version: CANARY_VERSION, frontendUrl: canary.url, canary: true }),
    ]);
    edge = await startOriginEdge({ redisUrl: redis.url, postgresUrl: db.url, primaryUrl: primary.url, canaryUrl: canary.url, ...secrets });
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await edge?.close();
    await stopAll([primaryWorker, canaryWorker]);
    await stopAll([primary?.process, canary?.process]);
    await db?.close();
    await redis?.close();
  });

  const byCanary = (flag: boolean): SeededPlatform => {
    const p = platforms.find((x) => x.canary === flag);
    if (p === undefined) throw new Error('no such platform');
    return p;
  };
  const primaryEvents = async (platform: SeededPlatform): Promise<RunEventsClient> => {
    const client = await connectRunEvents(primary.url, await signPrincipalJwt(secrets.jwtSecret, platform.platformId));
    clients.push(client);
    return client;
  };
  const post = (target: { url: string }, flowId: string, body: unknown, sync: boolean): Promise<Response> =>
    fetch(`${target.url}/v1/webhooks/${flowId}${sync ? '/sync' : ''}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const webhook = async (target: { url: string }, flowId: string, body: unknown, sync = false): Promise<Record<string, unknown>> => {
    const res = await post(target, flowId, body, sync);
    expect(res.status).toBe(200);
    return (await res.json()) as Record<string, unknown>;
  };

  describe('a canary platform', () => {
    it('goes edge -> canary app -> canaryWorkerJobs -> canary worker, and a client of the PRIMARY app hears about it', async () => {
      const platform = byCanary(true);
      const events = await primaryEvents(platform);
      const res = await post(edge, platform.flowId, { n: 1 }, true);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ap-version')).toBe(CANARY_VERSION);
      const run = (await res.json()) as Record<string, unknown>;
      expect(run).toMatchObject({ status: 'SUCCEEDED', queue: 'canaryWorkerJobs', workerVersion: CANARY_VERSION, result: { echo: 'n=1' } });
      const event = await events.waitFor(String(run.id));
      expect(event).toEqual({
        runId: run.id,
        flowId: platform.flowId,
        platformId: platform.platformId,
        status: 'SUCCEEDED',
        workerVersion: CANARY_VERSION,
        eventId: expect.stringMatching(/^\d+-\d+$/),
      });
    });

    it('is enqueued on canaryWorkerJobs even when its webhook reaches the primary app', async () => {
      const run = await webhook(primary, byCanary(true).flowId, { n: 2 }, true);
      expect(run).toMatchObject({ queue: 'canaryWorkerJobs', workerVersion: CANARY_VERSION });
    });
  });

  describe('a non-canary platform', () => {
    it('goes edge -> primary app -> workerJobs -> primary worker, and a client of the primary app hears about it', async () => {
      const platform = byCanary(false);
      const events = await primaryEvents(platform);
      const res = await post(edge, platform.flowId, { n: 3 }, true);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ap-version')).toBe(PRIMARY_VERSION);
      const run = (await res.json()) as Record<string, unknown>;
      expect(run).toMatchObject({ status: 'SUCCEEDED', queue: 'workerJobs', workerVersion: PRIMARY_VERSION });
      expect(await events.waitFor(String(run.id))).toMatchObject({ workerVersion: PRIMARY_VERSION });
    });
  });

  describe('isolation under load', () => {
    it('executes 200 runs over 10 platforms exactly once each, each by its own fleet', async () => {
      const listeners = await Promise.all(platforms.map((p) => primaryEvents(p)));
      const jobs = Array.from({ length: 200 }, (_, i) => ({ platform: platforms[i % 10] as SeededPlatform, i }));
      const runIds = await inParallel(jobs, 20, async ({ platform, i }) => {
        const app = i % 3 === 0 ? canary : primary; // webhooks may reach either app; the queue must not depend on it
        const { runId } = await webhook(app, platform.flowId, { n: i });
        return { runId: String(runId), platform };
      });
      await Promise.all(listeners.map((l) => l.waitForCount(20)));

      const { rows } = await pool.query<{ id: string; status: string; queue: string; worker_version: string }>(
        'SELECT id, status, queue, worker_version FROM flow_run WHERE id = ANY($1::text[])',
        [runIds.map((r) => r.runId)],
      );
      expect(rows).toHaveLength(200);
      const expected = new Map(runIds.map((r) => [r.runId, r.platform.canary]));
      for (const row of rows) {
        const isCanary = expected.get(row.id);
        expect(row.status).toBe('SUCCEEDED');
        expect(row.queue).toBe(isCanary === true ? 'canaryWorkerJobs' : 'workerJobs');
        expect(row.worker_version).toBe(isCanary === true ? CANARY_VERSION : PRIMARY_VERSION);
      }
      const executions = (proc: ManagedProcess): string[] => proc.find('job executing').map((l) => String(l.runId));
      const canaryRuns = executions(canaryWorker).filter((id) => expected.has(id));
      const primaryRuns = executions(primaryWorker).filter((id) => expected.has(id));
      expect(canaryRuns).toHaveLength(100);
      expect(primaryRuns).toHaveLength(100);
      expect(new Set([...canaryRuns, ...primaryRuns]).size).toBe(200);
      expect(canaryRuns.every((id) => expected.get(id) === true)).toBe(true);
      expect(primaryRuns.every((id) => expected.get(id) === false)).toBe(true);
    });
  });

  describe('shared queues (runsMetadata, system-job-queue)', () => {
    it('are consumed by both apps, every job exactly once', async () => {
      const processed = (msg: string) => [...primary.process.find(msg), ...canary.process.find(msg)].map((l) => String(l.jobId));
      // Both apps take part in runsMetadata: the load test above produced 200+ status updates.
      const metadataPrimary = primary.process.find('runs-metadata job processed').length;
      const metadataCanary = canary.process.find('runs-metadata job processed').length;
      expect(metadataPrimary).toBeGreaterThan(0);
      expect(metadataCanary).toBeGreaterThan(0);
      const metadataIds = processed('runs-metadata job processed');
      expect(new Set(metadataIds).size).toBe(metadataIds.length);

      // The repeatable purge fires every 250 ms; wait until each app has handled some of its firings.
      await Promise.all([
        primary.process.waitForLogCount((l) => l.msg === 'system job processed', 2),
        canary.process.waitForLogCount((l) => l.msg === 'system job processed', 2),
      ]);
      const systemIds = processed('system job processed');
      expect(new Set(systemIds).size).toBe(systemIds.length);
    });
  });

  describe('under concurrent load', () => {
    it('runs 100 sync webhooks of a canary platform in a row through the edge on the canary fleet, and 300 concurrent ones per fleet with every finish event delivered', async () => {
      // Timings of these runs are the bench's (npm run bench, "origin fleets"); here only what happened is checked.
      const platform = byCanary(true);
      for (let i = 0; i < 100; i++) {
        const run = await webhook(edge, platform.flowId, { n: i }, true);
        expect(run).toMatchObject({ status: 'SUCCEEDED', queue: 'canaryWorkerJobs', workerVersion: CANARY_VERSION });
      }
      for (const isCanary of [true, false]) {
        const fleetPlatforms = platforms.filter((p) => p.canary === isCanary);
        const listeners = await Promise.all(fleetPlatforms.map((p) => primaryEvents(p)));
        const n = 300;
        const runIds = await inParallel(Array.from({ length: n }, (_, i) => i), 20, (i) =>
          webhook(isCanary ? canary : primary, (fleetPlatforms[i % fleetPlatforms.length] as SeededPlatform).flowId, { n: i }),
        );
        await Promise.all(listeners.map((l) => l.waitForCount(n / fleetPlatforms.length)));
        expect(new Set(runIds.map((r) => String(r.runId))).size).toBe(n);
      }
    });
  });
});
