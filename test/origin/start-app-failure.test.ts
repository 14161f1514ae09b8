import net from 'node:net';
import { Redis } from 'ioredis';
import { ManagedProcess } from '../../dev/process/managed-process.js';
import { REPO_ROOT } from '../../dev/repo-root.js';
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

describe('an app whose AP_PORT is taken', () => {
  it('exits with 78, naming the port and AP_PORT, and leaves nothing open', async () => {
    const port = await allocatePort();
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', () => resolve()));
    try {
      const secrets = randomSecrets();
      const proc = new ManagedProcess({
        name: 'port-taken-app',
        command: process.execPath,
        args: ['--import', 'tsx', 'origin/main.ts'],
        cwd: REPO_ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '/tmp',
          AP_CONTAINER_TYPE: 'APP',
          AP_VERSION: '0.1.0',
          AP_REDIS_URL: redisDb.url,
          AP_POSTGRES_URL: db.url,
          AP_JWT_SECRET: secrets.jwtSecret,
          AP_WORKER_SECRET: secrets.workerSecret,
          AP_PORT: String(port),
          AP_HOST: '127.0.0.1',
        },
      });
      expect(await proc.exited).toBe(78);
      const line = proc.logs.find((l) => l.level === 'error');
      expect(line?.msg).toBe(`AP_PORT ${port} on 127.0.0.1 cannot be used (EADDRINUSE: another process holds it, or it needs privileges): set AP_PORT to a free port`);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  }, 60_000);
});
