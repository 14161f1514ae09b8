import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { closeAll } from '../core/lifecycle/close-all.js';
import { startLocalCloud } from '../dev/local-cloud/start-local-cloud.js';
import type { LocalCloud } from '../dev/local-cloud/start-local-cloud.js';
import type { NeonLocal } from '../dev/neon-local/server.js';
import { seedApiKey, seedFlow, seedPlatform } from '../dev/seed/seed-data.js';
import type { UpstashLocal } from '../dev/upstash-local/server.js';
import { startEchoOrigin } from './echo-origin.js';
import type { EchoOrigin } from './echo-origin.js';
import { createTestDatabase } from './test-database.js';
import type { TestDatabase } from './test-database.js';
import { reserveRedisDb } from './test-redis.js';
import type { ReservedRedisDb } from './test-redis.js';

export interface EdgeHarnessOptions {
  /** false = AP_CANARY_APP_URL is empty (canary routing off). Default true. */
  canaryRouting?: boolean;
  storeTimeoutMs?: number;
  /** ADMIN_STORE_TIMEOUT_MS: how long an admin change waits for Postgres. */
  adminStoreTimeoutMs?: number;
}

/**
 * The local cloud in front of two echo origins, on a fresh database and a reserved Redis database, with seeding
 * helpers and every line the Worker writes.
 */
export interface EdgeHarness {
  url: string;
  apiKey: string;
  jwtSecret: string;
  primary: EchoOrigin;
  canary: EchoOrigin;
  upstash: UpstashLocal;
  neon: NeonLocal;
  cloud: LocalCloud;
  db: TestDatabase;
  redisDb: ReservedRedisDb;
  pool: pg.Pool;
  /** The workerd process running the edge. */
  edgePid: number;
  /** Lines the Worker wrote (request log lines are JSON). */
  logs: string[];
  seedPlatform(options?: { canary?: boolean }): Promise<string>;
  seedFlow(platformId: string): Promise<string>;
  seedApiKey(platformId: string): Promise<string>;
  admin(body: unknown, init?: { apiKey?: string; method?: string }): Promise<Response>;
  /** Any admin route with the admin key: `call('PUT', '/v1/admin/canary/rollout', { percent: 5 })`. */
  call(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Response>;
  stopUpstash(): Promise<void>;
  startUpstash(): Promise<void>;
  stopNeon(): Promise<void>;
  startNeon(): Promise<void>;
  stopCanary(): Promise<void>;
  startCanary(): Promise<void>;
  close(): Promise<void>;
}

/** Starts the harness; call `close()` in afterAll. */
export async function startEdgeHarness(options: EdgeHarnessOptions = {}): Promise<EdgeHarness> {
  const apiKey = `test-admin-${randomBytes(12).toString('hex')}`;
  const jwtSecret = `test-jwt-${randomBytes(16).toString('hex')}`;
  const [db, redisDb, primary, firstCanary] = await Promise.all([
    createTestDatabase(),
    reserveRedisDb(),
    startEchoOrigin('primary'),
    startEchoOrigin('canary'),
  ]);
  let canary = firstCanary;
  const logs: string[] = [];
  const cloud = await startLocalCloud({
    stores: { redisUrl: redisDb.url, postgresUrl: db.url },
    secrets: { apiKey, jwtSecret, workerSecret: `test-worker-${randomBytes(16).toString('hex')}` },
    origins: { urls: { primary: primary.url, canary: canary.url } },
    edge: {
      canaryRouting: options.canaryRouting,
      storeTimeoutMs: options.storeTimeoutMs ?? 2_000,
      onLog: (line) => logs.push(line),
      bindings: options.adminStoreTimeoutMs === undefined ? {} : { ADMIN_STORE_TIMEOUT_MS: String(options.adminStoreTimeoutMs) },
    },
  });
  const { edge, upstash } = cloud;
  if (edge === null || upstash === null) throw new Error('the local cloud started without its edge or Upstash endpoint');
  const pool = db.pool({ max: 4 });

  return {
    url: edge.url,
    apiKey,
    jwtSecret,
    primary,
    get canary() {
      return canary;
    },
    get upstash() {
      return upstash.current;
    },
    get neon() {
      return cloud.neon.current;
    },
    cloud,
    db,
    redisDb,
    pool,
    edgePid: edge.pid,
    logs,
    seedPlatform: ({ canary: isCanary = false } = {}) => seedPlatform(pool, { canary: isCanary }),
    seedFlow: async (platformId) => (await seedFlow(pool, platformId)).flowId,
    seedApiKey: (platformId) => seedApiKey(pool, platformId),
    admin(body, init = {}) {
      const method = init.method ?? 'POST';
      return fetch(`${edge.url}/v1/admin/platforms/canary`, {
        method,
        headers: { 'api-key': init.apiKey ?? apiKey, 'content-type': 'application/json' },
        body: method === 'GET' ? null : JSON.stringify(body),
      });
    },
    call(method, path, body, headers = {}) {
      return fetch(`${edge.url}${path}`, {
        method,
        headers: { 'api-key': apiKey, 'content-type': 'application/json', ...headers },
        body: body === undefined ? null : JSON.stringify(body),
      });
    },
    stopUpstash: () => upstash.stop(),
    startUpstash: () => upstash.start(),
    stopNeon: () => cloud.neon.stop(),
    startNeon: () => cloud.neon.start(),
    stopCanary: () => canary.close(),
    async startCanary() {
      canary = await startEchoOrigin('canary', canary.port);
    },
    close: () =>
      closeAll([
        ['local cloud', () => cloud.close()],
        ['primary origin', () => primary.close()],
        ['canary origin', () => canary.close()],
        ['test database', () => db.close()],
        ['redis reservation', () => redisDb.close()],
      ]),
  };
}
