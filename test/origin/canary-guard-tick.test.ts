import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_READ_SCRIPT, healthKey, resetHealth } from '../../core/health/health-window.js';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import type { ScriptRunner } from '../../core/membership/index.js';
import { runGuardTick } from '../../origin/guard/canary-guard.js';
import type { Logger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// One guard tick against real Postgres and Redis, with the interleavings a real deployment can produce forced by
// hooking the window read. The end-to-end guard (real apps and edge) is test/origin/health-guard.test.ts.

const SETTINGS = { enabled: true, intervalSeconds: 30, windowSeconds: 300, minRequests: 50, maxErrorRate: 0.05 };
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
  // A resume drops the window first, as the edge's does.
  control = new CanaryControl({ sql, membership: new MembershipStore({ redis: runner, sql }), beforeResume: () => resetHealth(runner, Date.now()) });
});

afterAll(async () => {
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});

/** A window in which the canary failed badly: 100 requests, 60 errors; the primary is clean. */
async function failingWindow(nowMs: number): Promise<void> {
  const key = healthKey(Math.floor(nowMs / 60_000));
  await redis.hset(key, { 'primary:requests': 100, 'primary:errors': 0, 'canary:requests': 100, 'canary:errors': 60 });
}

const guardPauses = async (): Promise<number> =>
  Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM canary_audit WHERE actor = 'guard' AND action = 'pause'`)).rows[0]?.n ?? 0);

describe('runGuardTick', () => {
  it('pauses an unhealthy canary once, audited by guard', async () => {
    const nowMs = Date.now();
    await failingWindow(nowMs);
    const deps = { redis: runner, saveRecord: async () => undefined, control, settings: SETTINGS, logger: quiet };
    expect((await runGuardTick(deps, { nowMs })).action).toBe('paused');
    expect((await runGuardTick(deps, { nowMs })).verdict).toBe('paused'); // a pause in place is left alone
    expect(await guardPauses()).toBe(1);
    await control.setPaused(false, META);
  });

  it('does not pause again when an operator resumes between the tick reading the pause state and the window', async () => {
    const nowMs = Date.now();
    await control.setPaused(true, META);
    await failingWindow(nowMs); // the failures that caused the pause
    const before = await guardPauses();
    // The operator's resume (which resets the window) lands while the tick reads the window.
    let resumed = false;
    const racing: ScriptRunner = {
      run: async (script, keys, args) => {
        if (script === HEALTH_READ_SCRIPT && !resumed) {
          resumed = true;
          await control.setPaused(false, META);
        }
        return runner.run(script, keys, args);
      },
    };
    const deps = { redis: racing, saveRecord: async () => undefined, control, settings: SETTINGS, logger: quiet };
    const record = await runGuardTick(deps, { nowMs });
    expect(resumed).toBe(true);
    expect(record).toMatchObject({ verdict: 'paused', action: 'none' });
    expect((await control.rollout()).paused).toBe(false);
    expect(await guardPauses()).toBe(before);
  });
});
