import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceKeys } from '../../core/judge/evidence-keys.js';
import type { Notification } from '../../core/notify/notification.js';
import type { PlanView } from '../../core/plans/plan.js';
import { rolloutBucket } from '../../core/rollout/bucket.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startOriginApp, stopAll } from '../../dev/origin/origin-processes.js';
import type { StartedApp } from '../../dev/origin/origin-processes.js';
import { startFaultProxy } from '../../testkit/fault-proxy.js';
import { emptyJudgeWindow, pollUntil } from '../../testkit/poll-until.js';
import { judgeEnv } from '../../testkit/judge-env.js';
import type { FaultProxy } from '../../testkit/fault-proxy.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { allocatePort } from '../../testkit/ports.js';
import { startSteadyLoad } from '../../testkit/steady-load.js';
import type { SteadyLoad } from '../../testkit/steady-load.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// Release plans end to end: real primary and canary apps (the judge and the plan tick in the primary), the real edge
// in workerd routing by the rollout the plan sets, Postgres holding the plan, a local receiver for the notifications.
// The platforms follow the rollout (no explicit choice); half the load names the ones a 10% rollout takes, so every
// step has canary traffic to judge.

const SECRET = 'plan-drills-notify-secret';
const JUDGE = { intervalSeconds: 2, windowSeconds: 60, minRequests: 60 };

interface Tick {
  app: string;
  at: string;
  verdict: string;
  action: string;
}
interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  after: Record<string, unknown>;
}

describe('release plans (real apps, edge, Redis and Postgres)', () => {
  const secrets = randomSecrets();
  let redisDb: ReservedRedisDb;
  let redis: Redis;
  let db: TestDatabase;
  let pool: pg.Pool;
  let apps: { primary: StartedApp; canary: StartedApp };
  let ports: { primary: number; canary: number };
  let canaryProxy: FaultProxy;
  let primaryProxy: FaultProxy;
  let edge: OriginEdge;
  let receiver: http.Server;
  const notifications: { body: string; signature: string | undefined }[] = [];
  const tokens = new Map<string, string>();
  /** Platforms a 10% rollout takes, and the others. */
  let early: string[] = [];
  const late: string[] = [];
  let load: SteadyLoad | undefined;
  const ticks: Tick[] = [];
  let topology: Parameters<typeof startOriginApp>[0];

  const startApps = async (): Promise<void> => {
    const [primary, canary] = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: '0.1.0', port: ports.primary }),
      startOriginApp(topology, { name: 'canary-app', version: '0.2.0-canary', port: ports.canary, canary: true }),
    ]);
    apps = { primary, canary };
  };

  beforeAll(async () => {
    [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
    redis = new Redis(redisDb.url, { maxRetriesPerRequest: 1 });
    pool = db.pool({ max: 2 });
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const signature = req.headers['x-canary-signature'];
        notifications.push({ body: Buffer.concat(chunks).toString('utf8'), signature: typeof signature === 'string' ? signature : undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    // Platforms following the rollout, until enough fall in the first 10% of the buckets.
    const salt = String((await pool.query('SELECT salt FROM canary_rollout WHERE id = 1')).rows[0]?.salt ?? '');
    while (early.length < 3 || late.length < 6) {
      const [p] = await seedPlatforms(pool, [{ canary: false }]);
      const id = p?.platformId ?? '';
      if ((await rolloutBucket(salt, id)) < 1000) early.push(id);
      else if (late.length < 6) late.push(id);
      tokens.set(id, await signPrincipalJwt(secrets.jwtSecret, id, { expiresInSeconds: 3600 }));
    }
    early = early.slice(0, 3);
    topology = {
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      ...secrets,
      extra: {
        ...judgeEnv(JUDGE),
        CANARY_NOTIFY_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
        CANARY_NOTIFY_SECRET: SECRET,
      },
      onLine: (raw: string, app: string) => {
        if (!raw.startsWith('{')) return;
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (line.msg === 'judge tick') ticks.push({ app, at: String(line.at), verdict: String(line.verdict), action: String(line.action) });
      },
    };
    ports = { primary: await allocatePort(), canary: await allocatePort() };
    await startApps();
    [canaryProxy, primaryProxy] = await Promise.all([startFaultProxy(apps.canary.url), startFaultProxy(apps.primary.url)]);
    edge = await startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primaryProxy.url, canaryUrl: canaryProxy.url, ...secrets });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await edge?.close();
    await Promise.all([canaryProxy?.close(), primaryProxy?.close()]);
    await stopAll([apps?.primary.process, apps?.canary.process]);
    await new Promise((resolve) => receiver?.close(resolve));
    await redis?.quit();
    await db?.close();
    await redisDb?.close();
  });

  /** 40 requests a second: half name the platforms a 10% rollout takes, half the others. */
  const startLoad = (): SteadyLoad =>
    startSteadyLoad({
      ratePerSecond: 40,
      send: async (beat) => {
        const list = beat % 2 === 0 ? early : late;
        const id = list[beat % list.length] ?? '';
        const res = await fetch(`${edge.url}/v1/flows`, { headers: { authorization: `Bearer ${tokens.get(id) ?? ''}` } });
        await res.arrayBuffer();
      },
    });

  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await edge.call(method, path, body);
    return { status: res.status, body: (await res.json()) as T };
  };
  const plan = async (): Promise<PlanView> => (await call<PlanView>('GET', '/v1/admin/canary/plans/current')).body;
  const rollout = async (): Promise<{ percent: number; paused: boolean }> => (await call<{ percent: number; paused: boolean }>('GET', '/v1/admin/canary/rollout')).body;
  const audit = async (sinceMs: number): Promise<AuditEntry[]> =>
    (await call<{ entries: AuditEntry[] }>('GET', '/v1/admin/canary/audit?limit=500')).body.entries.filter((e) => Date.parse(e.at) >= sinceMs).reverse();
  const ticksSince = (sinceMs: number): Tick[] => ticks.filter((t) => Date.parse(t.at) >= sinceMs).sort((a, b) => a.at.localeCompare(b.at));

  /** Polls until `check` returns a value; the timeout names the plan and the last ticks. */
  const until = <T,>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> =>
    pollUntil(what, check, { timeoutMs, describe: async () => `plan ${JSON.stringify(await plan()).slice(0, 2000)}; last ticks ${JSON.stringify(ticks.slice(-4))}` });


  /** Between drills: no active plan, routing resumed (which drops the judge's window), the rollout at 0. */
  async function freshStart(): Promise<void> {
    await load?.stop();
    load = undefined;
    canaryProxy.fail(null);
    const current = await call<PlanView>('GET', '/v1/admin/canary/plans/current');
    if (current.status === 200 && (current.body.state === 'running' || current.body.state === 'held')) await call('POST', '/v1/admin/canary/plans/current/abort', { reason: 'drill over' });
    if ((await rollout()).paused) await call('POST', '/v1/admin/canary/resume', { reason: 'drill over' });
    await call('PUT', '/v1/admin/canary/rollout', { percent: 0, reason: 'drill over' });
    await emptyJudgeWindow(redis, evidenceKeys);
  }

  it('takes a healthy canary under load 10 -> 50 -> 100 on its own: one audit entry per step, the rollout exactly the plan\'s', async () => {
    await freshStart();
    const started = Date.now();
    load = startLoad();
    // The rollout as the plan finds it, then every value it takes (a tick may apply the first step before the first poll).
    const percents: number[] = [(await rollout()).percent];
    const answer = await call<PlanView>('POST', '/v1/admin/canary/plans', { steps: [{ percent: 10, bakeSeconds: 4 }, { percent: 50, bakeSeconds: 4 }, { percent: 100, bakeSeconds: 0 }], reason: 'drill' });
    expect(answer).toMatchObject({ status: 201, body: { state: 'running', currentStep: 0 } });
    const done = await until(
      'the plan to complete',
      async () => {
        const r = await rollout();
        if (percents.at(-1) !== r.percent) percents.push(r.percent);
        const p = await plan();
        return p.state === 'completed' ? p : undefined;
      },
      90_000,
    );
    expect(done).toMatchObject({ id: answer.body.id, appliedPercent: 100 });
    expect(percents).toEqual([0, 10, 50, 100]);
    const entries = (await audit(started)).filter((e) => e.action.startsWith('plan-'));
    expect(entries.map((e) => [e.actor, e.action, e.after.percent])).toEqual([
      ['api-key', 'plan-start', undefined],
      ['plan', 'plan-step', 10],
      ['plan', 'plan-step', 50],
      ['plan', 'plan-step', 100],
      ['plan', 'plan-complete', 100],
    ]);
    expect(done.verdicts.every((v) => v.verdict === 'pass' || v.verdict === 'inconclusive')).toBe(true);
  });

  it('aborts a plan whose canary starts failing at step 2 within 2 ticks of the minimum sample: paused, rollout restored, a signed notification received', async () => {
    await freshStart();
    await call('PUT', '/v1/admin/canary/rollout', { percent: 1, reason: 'before the plan' });
    load = startLoad();
    const answer = await call<PlanView>('POST', '/v1/admin/canary/plans', { steps: [{ percent: 10, bakeSeconds: 2 }, { percent: 50, bakeSeconds: 60 }, { percent: 100, bakeSeconds: 0 }] });
    await until('step 2', async () => ((await plan()).currentStep === 1 && (await rollout()).percent === 50 ? true : undefined));
    await until('a passing verdict at step 2', () => ticksSince(Date.now() - JUDGE.intervalSeconds * 1000).find((t) => t.verdict === 'pass'));
    const failedAt = Date.now();
    canaryProxy.fail(500);
    const aborted = await until('the plan to abort', async () => ((await plan()).state === 'aborted' ? await plan() : undefined));
    const paused = ticksSince(failedAt).findIndex((t) => t.action === 'paused');
    console.log(`plan (canary failing at step 2): aborted on tick ${paused + 1} after the failure`);
    expect(paused).toBeGreaterThanOrEqual(0);
    expect(paused).toBeLessThanOrEqual(1);
    expect(aborted).toMatchObject({ id: answer.body.id, currentStep: 1, rolloutBeforePercent: 1 });
    expect(await rollout()).toMatchObject({ percent: 1, paused: true });
    const abort = await until('the abort notification', () => notifications.find((n) => (JSON.parse(n.body) as Notification).event === 'plan-abort'));
    expect(abort.signature).toBe(`sha256=${createHmac('sha256', SECRET).update(abort.body).digest('hex')}`);
    expect(JSON.parse(abort.body)).toMatchObject({ event: 'plan-abort', plan: answer.body.id, step: 2, verdict: 'fail', text: expect.stringContaining('the judge paused canary routing') });
    await until('the pause notification', () => notifications.find((n) => (JSON.parse(n.body) as Notification).event === 'pause'));
  });

  it('holds at an approval step until approved, then goes on', async () => {
    await freshStart();
    load = startLoad();
    await call('POST', '/v1/admin/canary/plans', { steps: [{ percent: 10, bakeSeconds: 2 }, { approval: true }, { percent: 50, bakeSeconds: 0 }] });
    const held = await until('the approval hold', async () => ((await plan()).state === 'held' ? await plan() : undefined));
    expect(held).toMatchObject({ currentStep: 1, holdReason: 'waiting for an approval (step 2)' });
    const heldAt = Date.now();
    await until('two more ticks', () => (ticksSince(heldAt).length >= 2 ? true : undefined));
    expect(await plan()).toMatchObject({ state: 'held', currentStep: 1 });
    expect((await rollout()).percent).toBe(10);
    expect((await call('POST', '/v1/admin/canary/plans/current/approve', { reason: 'signed off' })).status).toBe(200);
    await until('the plan to complete', async () => ((await plan()).state === 'completed' ? true : undefined));
    expect((await rollout()).percent).toBe(50);
  });

  it('resumes the same plan at the same step, once, after both apps are killed and started again mid-bake', async () => {
    await freshStart();
    load = startLoad();
    const answer = await call<PlanView>('POST', '/v1/admin/canary/plans', { steps: [{ percent: 10, bakeSeconds: 8 }, { percent: 50, bakeSeconds: 0 }] });
    const started = Date.now();
    await until('step 1 baking', async () => ((await plan()).bakeEndsAt !== null ? true : undefined));
    // No traffic while no app runs (every request would fail on both sides): the drill is about the plan's state.
    await load.stop();
    apps.primary.process.kill('SIGKILL');
    apps.canary.process.kill('SIGKILL');
    await Promise.all([apps.primary.process.exited, apps.canary.process.exited]);
    expect(await plan()).toMatchObject({ id: answer.body.id, state: 'running', currentStep: 0 });
    await startApps();
    load = startLoad();
    const done = await until('the plan to complete', async () => ((await plan()).state === 'completed' ? await plan() : undefined), 90_000);
    expect(done.id).toBe(answer.body.id);
    const steps = (await audit(started)).filter((e) => e.action === 'plan-step').map((e) => e.after.percent);
    expect(steps).toEqual([10, 50]);
    expect((await rollout()).percent).toBe(50);
  });
});
