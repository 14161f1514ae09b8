import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { JudgeRecord } from '../../core/judge/judge-record.js';
import { JUDGE_DEFAULTS } from '../../core/judge/judge-settings.js';
import { SignalBatch, recordSignals } from '../../core/judge/signal-batch.js';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import type { ScriptRunner } from '../../core/membership/index.js';
import type { Notification } from '../../core/notify/notification.js';
import { OperatorCommands } from '../../core/operator/operator-commands.js';
import { PlanStore } from '../../core/plans/plan-store.js';
import { rolloutBucket } from '../../core/rollout/bucket.js';
import { seedPlatform } from '../../dev/seed/seed-data.js';
import type { Logger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { enqueueNotifications } from '../../origin/notify/notify-outbox.js';
import { runPlanTick } from '../../origin/plans/plan-tick.js';
import { readTraffic } from '../../origin/plans/traffic-reader.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// Release plans against real Postgres and Redis: started through the operator commands, advanced by the plan tick on
// synthetic judge records, their transitions audited and queued as notifications. End to end (real apps, workerd
// edge, the real judge): test/origin/plan-drills.test.ts.

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
const META = { actor: 'test', reason: null };

let db: TestDatabase;
let redisDb: ReservedRedisDb;
let redis: Redis;
let pool: pg.Pool;
let runner: ScriptRunner;
let control: CanaryControl;
let plans: PlanStore;
let operator: OperatorCommands;
let queue: Queue<Notification>;

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase(), reserveRedisDb()]);
  redis = new Redis(redisDb.url, { maxRetriesPerRequest: null });
  pool = db.pool({ max: 8 });
  runner = createIoredisScriptRunner(redis);
  const sql = createPgSqlClient(pool);
  const membership = new MembershipStore({ redis: runner, sql });
  control = new CanaryControl({ sql, membership });
  plans = new PlanStore({ sql, membership });
  operator = new OperatorCommands({ control, plans, onStoreError: () => undefined });
  queue = new Queue<Notification>('canary-notifications', { connection: redis });
});
afterAll(async () => {
  await queue.close();
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});
afterEach(async () => {
  // No plan stays active between tests; the rollout starts at 0, not paused.
  const current = await plans.current();
  if (current !== null && (current.state === 'running' || current.state === 'held')) await plans.verb('abort', 'test', 'cleanup');
  await control.setPaused(false, META);
  await control.setRollout(0, META);
});

function record(verdict: JudgeRecord['verdict'], action: JudgeRecord['action'] = 'none'): JudgeRecord {
  return { at: new Date().toISOString(), verdict, action, quarantined: [], problem: null, windowSeconds: 300, settings: { enabled: true, intervalSeconds: 30, windowSeconds: 300, ...JUDGE_DEFAULTS }, metrics: null };
}

const deps = () => ({ plans, control, readTraffic: (nowMs: number) => readTraffic(redis, nowMs), logger: quiet });

const planAudit = async (sinceId: number): Promise<{ actor: string; action: string; after: Record<string, unknown> }[]> =>
  (await pool.query(`SELECT actor, action, after FROM canary_audit WHERE id > $1 AND action LIKE 'plan-%' ORDER BY id`, [sinceId])).rows;
const lastAuditId = async (): Promise<number> => Number((await pool.query('SELECT COALESCE(max(id), 0) AS id FROM canary_audit')).rows[0]?.id ?? 0);

describe('release plans', () => {
  it('lets exactly one of concurrent starts win; the others are told which plan is active (409)', async () => {
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, i) => operator.startPlan({ steps: [{ percent: 10 + i, bakeSeconds: 60 }] }, `api:racer-${i}`)));
    const won = outcomes.filter((o) => o.kind === 'ok');
    expect(won).toHaveLength(1);
    for (const o of outcomes.filter((x) => x.kind !== 'ok')) expect(o).toMatchObject({ kind: 'conflict', code: 'plan_active', message: expect.stringMatching(/^plan \d+ \(running/) });
    expect((await pool.query(`SELECT count(*)::int AS n FROM canary_plan WHERE active`)).rows[0]).toEqual({ n: 1 });
  });

  it('refuses a bad plan with a 400 naming the field, and starts nothing', async () => {
    const before = await plans.current();
    for (const [input, message] of [
      [{ steps: [] }, 'steps: must have at least one step'],
      [{ steps: [{ percent: 50, bakeSeconds: 60 }, { percent: 10, bakeSeconds: 60 }] }, 'steps.1.percent: must not be lower than the step before (50)'],
      [{ steps: [{ percent: 10 }] }, 'steps.0.bakeSeconds: is required'],
      [{ steps: [{ percent: 10, bakeSeconds: -1 }] }, 'steps.0.bakeSeconds: must be a whole number of seconds from 0 to 604800'],
      [{ steps: [{ percent: 10, bakeSeconds: 604_801 }] }, 'steps.0.bakeSeconds: must be a whole number'],
      [{ steps: [{ percent: 101, bakeSeconds: 1 }] }, 'steps.0.percent: must be a percentage'],
      [{ steps: [{ percent: 10, bakeSeconds: 1, extra: 1 }] }, 'steps.0: unknown field extra'],
      [{ steps: [{ percent: 10, bakeSeconds: 1 }], colour: 'red' }, 'unknown field colour'],
    ] as const) {
      const outcome = await operator.startPlan(input, 'api:ops');
      expect(outcome).toMatchObject({ kind: 'invalid' });
      expect(outcome.kind === 'invalid' && outcome.message).toContain(message);
    }
    expect((await plans.current())?.id).toBe(before?.id);
  });

  it('goes 10 -> 50 -> 100 on passing ticks, one audited transition each, the rollout exactly the step\'s, then completes', async () => {
    const since = await lastAuditId();
    const started = await operator.startPlan({ steps: [{ percent: 10, bakeSeconds: 0 }, { percent: 50, bakeSeconds: 0 }, { percent: 100, bakeSeconds: 0 }] }, 'api:ops');
    expect(started).toMatchObject({ kind: 'ok', value: { state: 'running', currentStep: 0, bakeEndsAt: null } });
    const seen: number[] = [];
    for (let tick = 0; tick < 4; tick++) {
      await runPlanTick(deps(), record('pass'));
      seen.push((await control.rollout()).basisPoints);
    }
    expect(seen).toEqual([1000, 5000, 10_000, 10_000]);
    expect(await plans.current()).toMatchObject({ state: 'completed', endedAt: expect.any(String) });
    expect((await planAudit(since)).map((e) => [e.actor, e.action, e.after.percent])).toEqual([
      ['api:ops', 'plan-start', undefined],
      ['plan', 'plan-step', 10],
      ['plan', 'plan-step', 50],
      ['plan', 'plan-step', 100],
      ['plan', 'plan-complete', 100],
    ]);
  });

  it('waits for the bake, and extends an inconclusive one up to maxBakeSeconds before holding', async () => {
    await operator.startPlan({ steps: [{ percent: 10, bakeSeconds: 60 }, { percent: 20, bakeSeconds: 60 }], maxBakeSeconds: 120 }, 'api:ops');
    const t0 = Date.now();
    await runPlanTick(deps(), record('pass'), t0);
    expect((await runPlanTick(deps(), record('pass'), t0 + 30_000)).transition).toEqual({ kind: 'none' });
    expect((await runPlanTick(deps(), record('inconclusive'), t0 + 61_000)).transition).toEqual({ kind: 'none' });
    const held = await runPlanTick(deps(), record('inconclusive'), t0 + 121_000);
    expect(held.transition).toMatchObject({ kind: 'hold' });
    expect(await plans.current()).toMatchObject({ state: 'held', holdReason: expect.stringContaining('maxBakeSeconds (120 s)') });
    expect((await plans.current())?.verdicts.map((v) => v.verdict)).toEqual(['pass', 'pass', 'inconclusive', 'inconclusive']);
  });

  it('aborts on a broad failure: the rollout goes back to where the plan found it', async () => {
    await control.setRollout(200, META);
    await operator.startPlan({ steps: [{ percent: 10, bakeSeconds: 0 }, { percent: 50, bakeSeconds: 600 }] }, 'api:ops');
    await runPlanTick(deps(), record('pass'));
    await runPlanTick(deps(), record('pass'));
    expect((await control.rollout()).basisPoints).toBe(5000);
    await control.setPaused(true, { actor: 'judge', reason: 'broad failure' }); // what the judge's tick did
    const aborted = await runPlanTick(deps(), record('fail', 'paused'));
    expect(aborted.transition).toMatchObject({ kind: 'abort', restoreBasisPoints: 200 });
    expect(await control.rollout()).toMatchObject({ basisPoints: 200, paused: true });
    expect(await plans.current()).toMatchObject({ state: 'aborted' });
  });

  it('holds when an operator changes the rollout, and re-applies its step when resumed', async () => {
    await operator.startPlan({ steps: [{ percent: 10, bakeSeconds: 600 }] }, 'api:ops');
    await runPlanTick(deps(), record('pass'));
    await control.setRollout(3000, { actor: 'api:ops', reason: 'by hand' });
    await runPlanTick(deps(), record('pass'));
    expect(await plans.current()).toMatchObject({ state: 'held', holdReason: expect.stringContaining('changed to 30% by api:ops') });
    expect(await operator.planVerb('resume', { reason: 'back to the plan' }, 'api:ops')).toMatchObject({ kind: 'ok', value: { state: 'running' } });
    await runPlanTick(deps(), record('pass'));
    expect((await control.rollout()).basisPoints).toBe(3000); // never lower than the rollout it found at the step
  });

  it('holds at an approval step until approved; the verbs answer 409 when the state does not allow them', async () => {
    await operator.startPlan({ steps: [{ percent: 5, bakeSeconds: 0 }, { approval: true }, { percent: 25, bakeSeconds: 0 }] }, 'api:ops');
    await runPlanTick(deps(), record('pass'));
    await runPlanTick(deps(), record('pass'));
    expect(await plans.current()).toMatchObject({ state: 'held', currentStep: 1 });
    await runPlanTick(deps(), record('pass'));
    expect((await control.rollout()).basisPoints).toBe(500);
    expect(await operator.planVerb('promote', {}, 'api:ops')).toMatchObject({ kind: 'conflict', code: 'plan_state' });
    expect(await operator.planVerb('approve', { reason: 'signed off' }, 'api:ops')).toMatchObject({ kind: 'ok', value: { state: 'running' } });
    expect(await operator.planVerb('approve', {}, 'api:ops')).toMatchObject({ kind: 'conflict' });
    await runPlanTick(deps(), record('pass'));
    expect((await control.rollout()).basisPoints).toBe(2500);
  });

  it('sizes a traffic step from the recorded last 24 hours: a platform with 30% of the requests stays out of a 10% step', async () => {
    const [big, ...small] = await Promise.all(Array.from({ length: 41 }, () => seedPlatform(pool)));
    const batch = new SignalBatch();
    const now = Date.now();
    // The big platform: 30% of the requests; 40 others share the rest.
    for (let i = 0; i < 300; i++) batch.record('requests', 'primary', big ?? '', false, 20, now);
    for (const id of small) for (let i = 0; i < 700 / 40; i++) batch.record('requests', 'primary', id, false, 20, now);
    await redis.flushdb();
    await recordSignals(runner, batch.take());
    await operator.startPlan({ steps: [{ percent: 1, bakeSeconds: 0 }, { trafficPercent: 10, bakeSeconds: 600 }] }, 'api:ops');
    await runPlanTick(deps(), record('pass'));
    await runPlanTick(deps(), record('pass'));
    const { basisPoints, salt } = await control.rollout();
    expect(basisPoints).toBeGreaterThanOrEqual(100); // never lower than the step before
    const traffic = await readTraffic(redis, Date.now());
    let carried = 0;
    for (const [id, n] of traffic.platforms) if ((await rolloutBucket(salt, id)) < basisPoints) carried += n;
    expect(carried / traffic.total).toBeLessThanOrEqual(0.11);
    expect((await rolloutBucket(salt, big ?? '')) < basisPoints).toBe(false);
  });

  it('queues every transition as a notification once, with the audit entry\'s id', async () => {
    await enqueueNotifications({ sql: createPgSqlClient(pool), queue, logger: quiet }); // what earlier tests left
    await queue.obliterate({ force: true });
    await operator.startPlan({ steps: [{ percent: 10, bakeSeconds: 0 }] }, 'api:ops');
    await runPlanTick(deps(), record('pass'));
    await control.setPaused(true, { actor: 'api:ops', reason: 'drill' });
    const queued = await enqueueNotifications({ sql: createPgSqlClient(pool), queue, logger: quiet });
    expect(queued).toBe(3);
    expect(await enqueueNotifications({ sql: createPgSqlClient(pool), queue, logger: quiet })).toBe(0);
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.data.event).sort()).toEqual(['pause', 'plan-start', 'plan-step']);
    for (const job of jobs) expect(job.id).toBe(job.data.id);
    expect(jobs.find((j) => j.data.event === 'plan-step')?.data).toMatchObject({ plan: expect.any(Number), step: 1, verdict: 'pass', text: expect.stringContaining('canary: plan-step') });
  });
});
