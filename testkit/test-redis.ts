import { Redis } from 'ioredis';
import { localStoreUrls } from '../tools/env/local-stores.js';

/** Base Redis server for tests and the bench (a logical database index is appended per reservation). */
export const TEST_REDIS_BASE_URL = localStoreUrls().redisUrl;

const LOCK_PREFIX = 'canary-edge:test-db-lock:';
const LOCK_SECONDS = 30 * 60;

export interface ReservedRedisDb {
  /** e.g. redis://127.0.0.1:6379/7 */
  url: string;
  index: number;
  /** Flushes the database and releases the reservation. */
  close(): Promise<void>;
}

function withDb(base: string, index: number): string {
  const url = new URL(base);
  url.pathname = `/${index}`;
  return url.toString();
}

/**
 * Reserves one Redis logical database (1..15) for the caller, so tests can use the contract's fixed key names
 * (`canary-platform-ids`, BullMQ queues) without touching `npm start`'s database 0 or another test's data.
 */
export async function reserveRedisDb(): Promise<ReservedRedisDb> {
  const admin = new Redis(withDb(TEST_REDIS_BASE_URL, 0), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await admin.connect();
  try {
    const owner = `${process.pid}:${crypto.randomUUID()}`;
    for (let index = 1; index <= 15; index++) {
      const ok = await admin.set(`${LOCK_PREFIX}${index}`, owner, 'EX', LOCK_SECONDS, 'NX');
      if (ok !== 'OK') continue;
      const url = withDb(TEST_REDIS_BASE_URL, index);
      const db = new Redis(url, { maxRetriesPerRequest: 1 });
      await db.flushdb();
      await db.quit();
      return {
        url,
        index,
        async close() {
          const c = new Redis(url, { maxRetriesPerRequest: 1 });
          try {
            await c.flushdb();
            await c.select(0);
            if ((await c.get(`${LOCK_PREFIX}${index}`)) === owner) await c.del(`${LOCK_PREFIX}${index}`);
          } finally {
            await c.quit();
          }
        },
      };
    }
    throw new Error('No free Redis test database (1..15). Stale locks expire after 30 min, or run: redis-cli --scan --pattern "canary-edge:test-db-lock:*" | xargs redis-cli del');
  } finally {
    await admin.quit();
  }
}
