import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MembershipStore } from '../../core/membership/index.js';
import { createLogger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { PG_TIMEOUTS, closeRedis, createCacheRedis } from '../../origin/redis.js';
import { allocatePort } from '../../testkit/ports.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';

let db: TestDatabase;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = db.pool({ max: 2, ...PG_TIMEOUTS });
});
afterAll(async () => {
  await db.close();
});

describe('origin membership when Redis is unreachable', () => {
  it('answers from Postgres instead of queueing the lookup until Redis returns', async () => {
    await pool.query("INSERT INTO platform (id, name) VALUES ('p1', 'p1')");
    await pool.query("INSERT INTO platform_plan (platform_id, canary, canary_explicit) VALUES ('p1', true, true)");
    const logger = createLogger({ test: 'membership-fallback' });
    const silent = { ...logger, error: () => undefined, warn: () => undefined };
    // A port the allocator holds and nothing listens on: this Redis never becomes reachable during the test.
    const redis = createCacheRedis(`redis://127.0.0.1:${await allocatePort()}`, 'test:membership', silent);
    try {
      const store = new MembershipStore({ redis: createIoredisScriptRunner(redis), sql: createPgSqlClient(pool) });
      expect(await store.lookup({ kind: 'platform', platformId: 'p1' })).toMatchObject({
        canary: true,
        authority: 'database',
        trace: { cache: 'error' },
      });
      // The answer came while the client had never been connected: a queued command could not have completed by now,
      // so the lookup did not wait for Redis (it would have waited forever: Redis never returns here).
      expect(redis.status).not.toBe('ready');
      expect(redis.options.enableOfflineQueue).toBe(false);
    } finally {
      await closeRedis(redis);
    }
  }, 10_000);
});
