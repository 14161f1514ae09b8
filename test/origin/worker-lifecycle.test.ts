import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { mintWorkerToken } from '../../origin/auth/worker-token.js';
import type { Logger } from '../../origin/logger.js';
import { connectRpc } from '../../origin/worker/rpc-client.js';
import type { RpcClient } from '../../origin/worker/rpc-client.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import type { SeededPlatform } from '../../testkit/origin-fixtures.js';
import { startOriginApp, startOriginWorker, stopAll } from '../../dev/origin/origin-processes.js';
import type { ManagedProcess, OriginTopology, StartedApp } from '../../dev/origin/origin-processes.js';
import { connectRunEvents } from '../../testkit/origin-socket.js';
import type { RunEventsClient } from '../../testkit/origin-socket.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const VERSION = '0.1.0';
const delayFlow = (ms: number) => ({ steps: [{ type: 'delay', ms }, { type: 'set', path: 'done', value: true }] });

describe('worker lifecycle', () => {
  const secrets = randomSecrets();
  let redis: ReservedRedisDb;
  let db: TestDatabase;
  let pool: pg.Pool;
  let topology: OriginTopology;
  let app: StartedApp;
  let shortJob: SeededPlatform;
  let longJob: SeededPlatform;
  let events: RunEventsClient;
  const started: ManagedProcess[] = [];

  beforeAll(async () => {
    redis = await reserveRedisDb();
    db = await createTestDatabase();
    pool = db.pool({ max: 2 });
    [shortJob] = (await seedPlatforms(pool, [{ canary: false, definition: delayFlow(2_000) }])) as [SeededPlatform];
    // Same platform (one socket client), a second, longer flow.
    const longFlowId = `flow_${crypto.randomUUID().slice(0, 12)}`;
    await pool.query('INSERT INTO flow (id, project_id, definition) VALUES ($1, $2, $3)', [longFlowId, shortJob.projectId, JSON.stringify(delayFlow(6_000))]);
    longJob = { ...shortJob, flowId: longFlowId };
    // Short locks so that a killed worker's job is recovered in seconds, not the production 30 s.
    topology = {
      redisUrl: redis.url,
      postgresUrl: db.url,
      ...secrets,
      extra: { AP_WORKER_LOCK_DURATION_MS: '2000', AP_WORKER_STALLED_INTERVAL_MS: '1000' },
    };
    app = await startOriginApp(topology, { name: 'app', version: VERSION });
    events = await connectRunEvents(app.url, await signPrincipalJwt(secrets.jwtSecret, shortJob.platformId));
  });

  afterAll(async () => {
    await events?.close();
    await stopAll(started);
    await app?.process.stop();
    await db?.close();
    await redis?.close();
  });

  const worker = async (name: string, env: Record<string, string> = {}, version = VERSION, waitReady = true): Promise<ManagedProcess> => {
    const proc = await startOriginWorker(topology, { name, version, frontendUrl: app.url, canary: false, env, waitReady });
    started.push(proc);
    return proc;
  };
  const webhook = async (flowId: string): Promise<string> => {
    const res = await fetch(`${app.url}/v1/webhooks/${flowId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { runId: string }).runId;
  };
  const executing = (proc: ManagedProcess, runId: string) => proc.waitForLog((l) => l.msg === 'job executing' && l.runId === runId);
  const finishedOnce = async (runId: string): Promise<void> => {
    await events.waitFor(runId);
    expect(events.events.filter((e) => e.runId === runId)).toHaveLength(1);
    expect(app.process.find('runs-metadata job processed', { runId, applied: true })).toHaveLength(1);
    const { rows } = await pool.query<{ status: string }>('SELECT status FROM flow_run WHERE id = $1', [runId]);
    expect(rows[0]?.status).toBe('SUCCEEDED');
  };

  describe('SIGKILL mid-job', () => {
    it('has the job retried by another worker and completed exactly once', async () => {
      const doomed = await worker('doomed');
      const runId = await webhook(shortJob.flowId);
      await executing(doomed, runId);
      doomed.kill('SIGKILL');
      await doomed.exited;
      const rescuer = await worker('rescuer');
      await rescuer.waitForLog((l) => l.msg === 'job finished' && l.runId === runId);
      await finishedOnce(runId);
      expect(rescuer.find('job executing', { runId })).toHaveLength(1);
      expect(await rescuer.stop()).toBe(0);
    });
  });

  describe('SIGTERM', () => {
    it('lets the in-flight job finish, then exits 0', async () => {
      const graceful = await worker('graceful');
      const runId = await webhook(shortJob.flowId);
      await executing(graceful, runId);
      graceful.kill('SIGTERM');
      expect(await graceful.exited).toBe(0);
      const order = graceful.logs.map((l) => (l.msg === 'job finished' && l.runId === runId ? 'finished' : l.msg)).filter((m) => m === 'finished' || m === 'stopped');
      expect(order).toEqual(['finished', 'stopped']);
      await finishedOnce(runId);
    });

    it('hands a job that outlives the grace period back to the queue, where another worker completes it', async () => {
      const hurried = await worker('hurried', { AP_SHUTDOWN_TIMEOUT_MS: '500' });
      const runId = await webhook(longJob.flowId);
      await executing(hurried, runId);
      hurried.kill('SIGTERM');
      expect(await hurried.exited).toBe(0);
      expect(hurried.find('job handed back (shutdown)', { runId })).toHaveLength(1);
      expect(hurried.find('job finished', { runId })).toHaveLength(0);
      const { rows } = await pool.query<{ status: string }>('SELECT status FROM flow_run WHERE id = $1', [runId]);
      expect(rows[0]?.status).toBe('QUEUED');
      const successor = await worker('successor');
      await executing(successor, runId);
      await successor.waitForLog((l) => l.msg === 'job finished' && l.runId === runId, 90_000);
      await finishedOnce(runId);
      await successor.stop();
    });
  });

  describe('version mismatch', () => {
    it('is refused by the app, loudly on both sides, and the worker exits non-zero', async () => {
      const stranger = await worker('stranger', {}, '9.9.9-other', false);
      expect(await stranger.exited).toBe(78);
      expect(stranger.logs.some((l) => l.msg.includes('runs version 0.1.0, this worker runs 9.9.9-other'))).toBe(true);
      await app.process.waitForLog((l) => l.msg === 'refused worker: version mismatch' && l.workerVersion === '9.9.9-other');
      expect(stranger.find('worker ready')).toHaveLength(0);
    });

    it('is refused when posting a result over HTTP (409); a bad, expired or admin-key token gets 401', async () => {
      const url = `${app.url}/v1/worker/runs/some-run/result`;
      const body = JSON.stringify({ status: 'SUCCEEDED', result: null, queue: 'workerJobs' });
      const post = (token: string) =>
        fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } });
      const now = Math.floor(Date.now() / 1000);
      const mismatch = await post(mintWorkerToken(secrets.workerSecret, { version: '9.9.9', workerId: 'w' }, now));
      expect(mismatch.status).toBe(409);
      expect(await mismatch.json()).toMatchObject({ error: { code: 'version_mismatch' } });
      expect((await post(mintWorkerToken('not-the-worker-secret', { version: VERSION, workerId: 'w' }, now))).status).toBe(401);
      expect((await post(mintWorkerToken(secrets.workerSecret, { version: VERSION, workerId: 'w' }, now - 3_600))).status).toBe(401);
      // The old credential: derived from the admin key and the public version, valid forever.
      expect((await post(createHmac('sha256', secrets.apiKey).update(`ap-worker:${VERSION}`).digest('hex'))).status).toBe(401);
      await app.process.waitForLog((l) => l.msg === 'refused worker result: bad credentials' && l.reason === 'expired');
    });

    it('refuses a worker with the wrong AP_WORKER_SECRET', async () => {
      const impostor = await worker('impostor', { AP_WORKER_SECRET: 'not-the-worker-secret' }, VERSION, false);
      expect(await impostor.exited).toBe(78);
      expect(impostor.logs.some((l) => l.msg.includes('refused this worker\'s credentials'))).toBe(true);
    });
  });

  describe('results', () => {
    const silent: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };
    const fakeWorker = (workerId: string): Promise<RpcClient> =>
      connectRpc({
        frontendUrl: app.url,
        version: VERSION,
        token: () => mintWorkerToken(secrets.workerSecret, { version: VERSION, workerId }, Math.floor(Date.now() / 1000)),
        workerId,
        fleet: 'workerJobs',
        onDown: () => undefined,
        onUp: () => undefined,
        onRefused: () => undefined,
        logger: silent,
      });
    const postResult = (runId: string, claim: string | null) =>
      fetch(`${app.url}/v1/worker/runs/${runId}/result`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${mintWorkerToken(secrets.workerSecret, { version: VERSION, workerId: 'poster' }, Math.floor(Date.now() / 1000))}`,
          ...(claim === null ? {} : { 'x-ap-run-claim': claim }),
        },
        body: JSON.stringify({ status: 'SUCCEEDED', result: { forged: claim === null }, queue: 'workerJobs' }),
      });
    const claimOf = async (client: RpcClient, runId: string): Promise<string> => {
      const reply = await client.claim({ runId, queue: 'workerJobs', workerVersion: VERSION });
      if (reply.outcome !== 'claimed') throw new Error(`expected a claim, got ${reply.outcome}`);
      return reply.claim;
    };

    /** A QUEUED run on workerJobs with no job behind it: the RPCs below act on its row only. */
    const queuedRun = async (): Promise<string> => {
      const runId = `run_${crypto.randomUUID()}`;
      await pool.query(`INSERT INTO flow_run (id, flow_id, platform_id, status, queue) VALUES ($1, $2, $3, 'QUEUED', 'workerJobs')`, [
        runId,
        shortJob.flowId,
        shortJob.platformId,
      ]);
      return runId;
    };

    it('accepts a result only from the holder of the current claim; forged, stale and replayed ones are refused and logged', async () => {
      const runId = await queuedRun();
      const [first, second] = await Promise.all([fakeWorker('first'), fakeWorker('second')]);
      try {
        const stale = await claimOf(first, runId);
        const current = await claimOf(second, runId); // the job was retried elsewhere: a new claim replaces the first

        const forged = await postResult(runId, null);
        expect(forged.status).toBe(403);
        expect(await forged.json()).toMatchObject({ error: { code: 'claim_mismatch' } });
        expect((await postResult(runId, 'x'.repeat(43))).status).toBe(403);
        expect((await postResult(runId, stale)).status).toBe(403);

        expect((await postResult(runId, current)).status).toBe(202);
        await expect.poll(async () => (await pool.query<{ status: string }>('SELECT status FROM flow_run WHERE id = $1', [runId])).rows[0]?.status).toBe('SUCCEEDED');
        expect((await postResult(runId, current)).status).toBe(403); // replay after the run finished

        await app.process.waitForLogCount((l) => l.msg === 'refused worker result: not the current claim of an unfinished run' && l.runId === runId, 4);
        const { rows } = await pool.query<{ result: unknown }>('SELECT result FROM flow_run WHERE id = $1', [runId]);
        expect(rows[0]?.result).toEqual({ forged: false });
      } finally {
        await Promise.all([first.close(), second.close()]);
      }
    });

    it('hands a run back only under its current claim, and never points a run at a queue no fleet polls', async () => {
      const runId = await queuedRun();
      const [holder, other] = await Promise.all([fakeWorker('holder'), fakeWorker('other')]);
      const row = async () => (await pool.query<{ status: string; queue: string }>('SELECT status, queue FROM flow_run WHERE id = $1', [runId])).rows[0];
      try {
        const claim = await claimOf(holder, runId);
        await other.requeue({ runId, claim: 'x'.repeat(43) }); // another worker cannot hand back a run it does not hold
        expect(await row()).toEqual({ status: 'RUNNING', queue: 'workerJobs' });
        await app.process.waitForLog((l) => l.msg === 'refused requeue: not the current claim of a running run' && l.runId === runId);

        await expect(other.reroute({ runId, to: 'nobodyPollsThis' })).rejects.toThrow('invalid run:reroute request');
        expect(await row()).toEqual({ status: 'RUNNING', queue: 'workerJobs' });

        await holder.requeue({ runId, claim });
        expect(await row()).toEqual({ status: 'QUEUED', queue: 'workerJobs' });
      } finally {
        await Promise.all([holder.close(), other.close()]);
      }
    });
  });
});
