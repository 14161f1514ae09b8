import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import { JUDGE_DEFAULTS } from '../../core/judge/judge-settings.js';
import { JUDGE_TICK } from '../../origin/judge/judge-tick.js';
import { readSignalWindow } from '../../origin/judge/signal-window.js';
import type { Logger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { SYSTEM_JOB_QUEUE } from '../../origin/queues/queue-names.js';
import { PURGE_OLD_RUNS, startSystemJobs } from '../../origin/queues/system-jobs.js';
import type { SystemJobs } from '../../origin/queues/system-jobs.js';
import { FlowRunRepository } from '../../origin/runs/flow-run-repository.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// A canary build never judges itself: only primary apps schedule the judge's (and the release plans') ticks,
// and a tick that reaches a canary app goes back to the queue, to run on a primary app. Real Redis (BullMQ) and
// Postgres; the apps' system-job machinery in this process.

let db: TestDatabase;
let redisDb: ReservedRedisDb;
let redis: Redis;
let pool: pg.Pool;
const running: SystemJobs[] = [];

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase(), reserveRedisDb()]);
  redis = new Redis(redisDb.url, { maxRetriesPerRequest: null });
  pool = db.pool({ max: 4 });
});
afterAll(async () => {
  await Promise.all(running.map((r) => r.close()));
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});

function recordingLogger(lines: { msg: string; fields: Record<string, unknown> }[]): Logger {
  const logger: Logger = {
    info: (msg, fields = {}) => void lines.push({ msg, fields }),
    warn: (msg, fields = {}) => void lines.push({ msg, fields }),
    error: (msg, fields = {}) => void lines.push({ msg, fields }),
    child: () => logger,
  };
  return logger;
}

async function startApp(isCanaryApp: boolean, saved: string[], lines: { msg: string; fields: Record<string, unknown> }[]): Promise<SystemJobs> {
  const runner = createIoredisScriptRunner(redis);
  const sql = createPgSqlClient(pool);
  const jobs = await startSystemJobs({
    connection: redis,
    repo: new FlowRunRepository(pool),
    intervalMs: 3_600_000,
    retentionDays: 30,
    isCanaryApp,
    judge: {
      readWindow: (nowMs, windowSeconds) => readSignalWindow(redis, nowMs, windowSeconds),
      saveRecord: async (record) => void saved.push(JSON.stringify(record)),
      control: new CanaryControl({ sql, membership: new MembershipStore({ redis: runner, sql }) }),
      // A tick every hour: the test adds the ticks it wants by hand.
      settings: { enabled: true, intervalSeconds: 3_600, windowSeconds: 300, ...JUDGE_DEFAULTS },
      logger: recordingLogger(lines),
    },
    logger: recordingLogger(lines),
  });
  running.push(jobs);
  return jobs;
}

const until = async (condition: () => boolean | Promise<boolean>, what: string): Promise<void> => {
  for (const deadline = Date.now() + 20_000; !(await condition()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20)); // polling interval
  }
};

describe('judge ticks run on primary apps only', () => {
  it('a canary app schedules no tick, hands back a tick it receives, and a primary app runs it', async () => {
    const queue = new Queue(SYSTEM_JOB_QUEUE, { connection: redis });
    queue.on('error', () => undefined);
    try {
      const canarySaved: string[] = [];
      const canaryLines: { msg: string; fields: Record<string, unknown> }[] = [];
      await startApp(true, canarySaved, canaryLines);
      const schedulers = (await queue.getJobSchedulers()).map((s) => s.key);
      expect(schedulers).toContain(PURGE_OLD_RUNS);
      expect(schedulers).not.toContain(JUDGE_TICK);

      const tick = await queue.add(JUDGE_TICK, {}, { removeOnComplete: false });
      await until(() => canaryLines.filter((l) => l.msg === 'tick handed back: this app runs the canary build').length >= 3, 'three hand-backs');
      expect(canarySaved).toEqual([]);

      const primarySaved: string[] = [];
      await startApp(false, primarySaved, []);
      expect((await queue.getJobSchedulers()).map((s) => s.key)).toContain(JUDGE_TICK);
      await until(async () => (await (await queue.getJob(tick.id ?? ''))?.isCompleted()) === true, 'the primary app to run the tick');
      expect(primarySaved.length).toBeGreaterThanOrEqual(1);
      expect(canarySaved).toEqual([]);
    } finally {
      await queue.close();
    }
  }, 60_000);
});
