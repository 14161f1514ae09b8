import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { forgetPlatformEvidence, resetHealth } from '../../core/health/health-window.js';
import { signalKey } from '../../core/judge/evidence-keys.js';
import { JUDGE_DEFAULTS } from '../../core/judge/judge-settings.js';
import type { JudgeSettings } from '../../core/judge/judge-settings.js';
import { SignalBatch, recordSignals } from '../../core/judge/signal-batch.js';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import type { ScriptRunner } from '../../core/membership/index.js';
import { seedPlatform } from '../../dev/seed/seed-data.js';
import { runJudgeTick } from '../../origin/judge/judge-tick.js';
import type { JudgeTickDeps } from '../../origin/judge/judge-tick.js';
import { readSignalWindow } from '../../origin/judge/signal-window.js';
import type { Logger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// One judge tick against real Postgres and Redis: signals written by the product's own recorder, the decision acted
// on through the operator plane. The end-to-end judge (real apps, edge, workers) is test/origin/judge-drills.test.ts.

const SETTINGS: JudgeSettings = { enabled: true, intervalSeconds: 30, windowSeconds: 300, ...JUDGE_DEFAULTS, minRequests: 100 };
const META = { actor: 'test', reason: null };
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

let db: TestDatabase;
let redisDb: ReservedRedisDb;
let redis: Redis;
let pool: pg.Pool;
let control: CanaryControl;
let runner: ScriptRunner;

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase(), reserveRedisDb()]);
  redis = new Redis(redisDb.url);
  pool = db.pool({ max: 2 });
  runner = createIoredisScriptRunner(redis);
  const sql = createPgSqlClient(pool);
  // A resume drops the window first, and a readmitted platform its own canary evidence, as the edge's control does.
  control = new CanaryControl({
    sql,
    membership: new MembershipStore({ redis: runner, sql }),
    beforeResume: () => resetHealth(runner, Date.now()),
    beforeReadmit: (platformId) => forgetPlatformEvidence(runner, platformId, Date.now()),
  });
});
afterAll(async () => {
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});
afterEach(async () => {
  await control.setPaused(false, META);
  await redis.flushdb();
});

const records: string[] = [];
function deps(overrides: Partial<JudgeTickDeps> = {}): JudgeTickDeps {
  return {
    readWindow: (nowMs, windowSeconds) => readSignalWindow(redis, nowMs, windowSeconds),
    saveRecord: async (record) => void records.push(JSON.stringify(record)),
    control,
    settings: SETTINGS,
    logger: quiet,
    ...overrides,
  };
}

/** Requests of `platforms` on one side, `failing` of them failing `errorRate` of their requests, written as the edge writes them. */
async function traffic(side: 'primary' | 'canary', platforms: readonly string[], perPlatform: number, errorRate: (platformId: string) => number): Promise<void> {
  const batch = new SignalBatch();
  const now = Date.now();
  for (const platformId of platforms) {
    const errors = Math.round(perPlatform * errorRate(platformId));
    for (let i = 0; i < perPlatform; i++) batch.record('requests', side, platformId, i < errors, 80 + (i % 40), now);
  }
  await recordSignals(runner, batch.take());
}

const auditBy = async (actor: string): Promise<{ action: string; platform_id: string | null; after: Record<string, unknown> }[]> =>
  (await pool.query(`SELECT action, platform_id, after FROM canary_audit WHERE actor = $1 ORDER BY id`, [actor])).rows;

async function platforms(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => seedPlatform(pool)));
}

describe('runJudgeTick', () => {
  it('passes a healthy canary and does nothing', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    await traffic('canary', canary, 60, () => 0.01);
    await traffic('primary', baseline, 60, () => 0.01);
    expect(await runJudgeTick(deps())).toMatchObject({ verdict: 'pass', action: 'none', problem: null });
  });

  it('pauses a canary that fails everyone, once, audited by judge with the evidence', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    await traffic('canary', canary, 60, () => 0.5);
    await traffic('primary', baseline, 60, () => 0.01);
    const before = (await auditBy('judge')).length;
    expect(await runJudgeTick(deps())).toMatchObject({ verdict: 'fail', action: 'paused' });
    expect((await control.rollout()).paused).toBe(true);
    expect(await runJudgeTick(deps())).toMatchObject({ verdict: 'paused', action: 'none' }); // nothing decided while paused
    const entries = (await auditBy('judge')).slice(before);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'pause', after: { paused: true, evidence: { metrics: { requestErrors: expect.objectContaining({ z: expect.any(Number) }) } } } });
  });

  it('quarantines the one platform that fails, and leaves the canary up for the others', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    const broken = canary[0] ?? '';
    for (const id of canary) await control.setChoice(id, true, META);
    await traffic('canary', canary, 60, (id) => (id === broken ? 1 : 0.01));
    await traffic('primary', baseline, 60, () => 0.01);
    const record = await runJudgeTick(deps());
    expect(record).toMatchObject({ verdict: 'fail', action: 'quarantined', quarantined: [broken] });
    expect((await control.rollout()).paused).toBe(false);
    expect(await control.status(broken)).toMatchObject({ canary: false, source: 'explicit' });
    expect(await control.quarantined()).toEqual([expect.objectContaining({ platformId: broken })]);
    expect((await auditBy('judge')).at(-1)).toMatchObject({ action: 'quarantine', platform_id: broken, after: { canary: false, evidence: expect.any(Object) } });
    // The next tick leaves the quarantined platform's past failures out of the canary arm: nothing more to do.
    expect(await runJudgeTick(deps())).toMatchObject({ verdict: 'pass', action: 'none' });
  });

  it('judges a platform let back onto the canary on its traffic after that only: the failures that quarantined it do not quarantine it again', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    const broken = canary[0] ?? '';
    for (const id of canary) await control.setChoice(id, true, META);
    await traffic('canary', canary, 60, (id) => (id === broken ? 1 : 0.01));
    await traffic('primary', baseline, 60, () => 0.01);
    expect(await runJudgeTick(deps())).toMatchObject({ action: 'quarantined', quarantined: [broken] });
    await control.setChoice(broken, true, META); // an operator pins it back in: it is no longer quarantined
    expect((await control.quarantined()).map((q) => q.platformId)).not.toContain(broken);
    const before = (await auditBy('judge')).length;
    expect(await runJudgeTick(deps())).toMatchObject({ verdict: 'pass', action: 'none' });
    expect((await auditBy('judge')).length).toBe(before);
    // Its new failures count again.
    await traffic('canary', [broken], 60, () => 1);
    expect(await runJudgeTick(deps())).toMatchObject({ action: 'quarantined', quarantined: [broken] });
  });

  it('reads platforms named like object properties (__proto__, constructor) as platforms, nothing more', async () => {
    await traffic('canary', ['__proto__', 'constructor', 'toString'], 3, () => 0);
    const window = await readSignalWindow(redis, Date.now(), 60);
    expect([...window.canary.requests.keys()].sort()).toEqual(['__proto__', 'constructor', 'toString']);
    expect(window.canary.requests.get('__proto__')).toMatchObject({ n: 3, bad: 0 });
    expect(window.garbage).toBe(0);
    expect(({} as Record<string, unknown>).n).toBeUndefined();
  });

  it('is inconclusive, and says so, on counters it cannot read; never pauses on them', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    await traffic('canary', canary, 60, () => 0.5);
    await traffic('primary', baseline, 60, () => 0.01);
    await redis.hset(signalKey(Math.floor(Date.now() / 60_000), 'requests', 'canary'), canary[1] ?? 'x', 'not-counts');
    const record = await runJudgeTick(deps());
    expect(record).toMatchObject({ verdict: 'inconclusive', action: 'none', problem: expect.stringContaining('1 of 25 counters were not readable') });
    expect((await control.rollout()).paused).toBe(false);
  });

  it('decides nothing when Redis or Postgres cannot be reached, and says which', async () => {
    const redisDown = await runJudgeTick(deps({ readWindow: () => Promise.reject(new Error('ECONNREFUSED')) }));
    expect(redisDown).toMatchObject({ verdict: 'error', action: 'none', problem: 'Redis is unreachable: nothing was decided' });
    const pgDown = await runJudgeTick(deps({ control: { ...control, rollout: () => Promise.reject(new Error('ECONNREFUSED')), quarantined: () => control.quarantined(), setChoice: control.setChoice.bind(control), setPaused: control.setPaused.bind(control) } }));
    expect(pgDown).toMatchObject({ verdict: 'error', action: 'none', problem: 'Postgres is unreachable: nothing was decided' });
  });

  it('does not pause again when an operator resumes between the tick reading the pause state and the window', async () => {
    const [canary, baseline] = [await platforms(5), await platforms(20)];
    await control.setPaused(true, META);
    await traffic('canary', canary, 60, () => 0.5); // the failures that caused the pause
    await traffic('primary', baseline, 60, () => 0.01);
    const before = (await auditBy('judge')).length;
    let resumed = false;
    const record = await runJudgeTick(
      deps({
        readWindow: async (nowMs, windowSeconds) => {
          if (!resumed) {
            resumed = true;
            await control.setPaused(false, META); // drops the window, then resumes
          }
          return readSignalWindow(redis, nowMs, windowSeconds);
        },
      }),
    );
    expect(resumed).toBe(true);
    expect(record).toMatchObject({ verdict: 'paused', action: 'none' });
    expect((await control.rollout()).paused).toBe(false);
    expect((await auditBy('judge')).length).toBe(before);
  });
});
