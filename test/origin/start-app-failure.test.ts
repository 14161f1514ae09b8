import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLIPS_STREAM_KEY } from '../../core/membership/index.js';
import { loadConfig } from '../../origin/config.js';
import type { Logger } from '../../origin/logger.js';
import { startApp } from '../../origin/start-app.js';
import { randomSecrets } from '../../testkit/origin-fixtures.js';
import { allocatePort, portOpen } from '../../testkit/ports.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// An app whose start fails halfway (here: the flips stream key holds a value of another type, so the consumer group
// cannot be created) must close what it had already opened, not leave its HTTP server listening.

let db: TestDatabase;
let redisDb: ReservedRedisDb;
let redis: Redis;

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase(), reserveRedisDb()]);
  redis = new Redis(redisDb.url);
});

afterAll(async () => {
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});

describe('startApp', () => {
  it('rejects with the cause and closes its HTTP server when a late start step fails', async () => {
    await redis.set(FLIPS_STREAM_KEY, 'not a stream');
    const port = await allocatePort();
    const secrets = randomSecrets();
    const config = loadConfig({
      AP_CONTAINER_TYPE: 'APP',
      AP_VERSION: '0.1.0',
      AP_REDIS_URL: redisDb.url,
      AP_POSTGRES_URL: db.url,
      AP_JWT_SECRET: secrets.jwtSecret,
      AP_WORKER_SECRET: secrets.workerSecret,
      AP_SOCKET_IO_REDIS_KEY: secrets.socketIoRedisKey,
      AP_PORT: String(port),
      AP_HOST: '127.0.0.1',
    });
    const errors: string[] = [];
    const logger: Logger = { info: () => undefined, warn: () => undefined, error: (msg) => void errors.push(msg), child: () => logger };
    await expect(startApp(config, logger)).rejects.toThrow(/WRONGTYPE/);
    expect(await portOpen(port)).toBe(false);
    expect(errors).not.toContain('closing after a failed start failed');
  });
});
