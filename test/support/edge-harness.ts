import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { startEdge } from '../../dev/edge-runner.js';
import type { EdgeRunner } from '../../dev/edge-runner.js';
import { startNeonLocal } from '../../dev/neon-local/server.js';
import type { NeonLocal } from '../../dev/neon-local/server.js';
import { startUpstashLocal } from '../../dev/upstash-local/server.js';
import type { UpstashLocal } from '../../dev/upstash-local/server.js';
import { startEchoOrigin } from './echo-origin.js';
import type { EchoOrigin } from './echo-origin.js';
import { createTestDatabase } from './postgres.js';
import type { TestDatabase } from './postgres.js';
import { reserveRedisDb } from './redis.js';
import type { ReservedRedisDb } from './redis.js';

export interface EdgeHarnessOptions {
  /** false = AP_CANARY_APP_URL is empty (canary routing off). Default true. */
  canaryRouting?: boolean;
  storeTimeoutMs?: number;
}

/** A whole local edge topology: fresh Postgres DB, reserved Redis DB, Upstash and Neon endpoints, two origins, the Worker. */
export interface EdgeHarness {
  url: string;
  apiKey: string;
  jwtSecret: string;
  primary: EchoOrigin;
  canary: EchoOrigin;
  upstash: UpstashLocal;
  neon: NeonLocal;
  db: TestDatabase;
  redisDb: ReservedRedisDb;
  pool: pg.Pool;
  /** Lines the Worker wrote (request log lines are JSON). */
  logs: string[];
  seedPlatform(options?: { canary?: boolean }): Promise<string>;
  seedFlow(platformId: string): Promise<string>;
  seedApiKey(platformId: string): Promise<string>;
  admin(body: unknown, init?: { apiKey?: string; method?: string }): Promise<Response>;
  stopUpstash(): Promise<void>;
  startUpstash(): Promise<void>;
  stopNeon(): Promise<void>;
  startNeon(): Promise<void>;
  stopCanary(): Promise<void>;
  startCanary(): Promise<void>;
  close(): Promise<void>;
}

function randomId(prefix: string): string {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

/** Starts the topology; call `close()` in afterAll. */
export async function startEdgeHarness(options: EdgeHarnessOptions = {}): Promise<EdgeHarness> {
  const apiKey = `test-admin-${randomBytes(12).toString('hex')}`;
  const jwtSecret = `test-jwt-${randomBytes(16).toString('hex')}`;
  const upstashToken = randomBytes(16).toString('hex');
  const [db, redisDb, primary, firstCanary] = await Promise.all([
    createTestDatabase(),
    reserveRedisDb(),
    startEchoOrigin('primary'),
    startEchoOrigin('canary'),
  ]);
  let canary = firstCanary;
  let upstash = await startUpstashLocal({ redisUrl: redisDb.url, token: upstashToken });
  let neon = await startNeonLocal();
  const pool = db.pool({ max: 4 });
  const logs: string[] = [];
  const edge: EdgeRunner = await startEdge({
    primaryUrl: primary.url,
    canaryUrl: options.canaryRouting === false ? '' : canary.url,
    apiKey,
    jwtSecret,
    upstashUrl: upstash.url,
    upstashToken,
    databaseUrl: db.url,
    neonHttpEndpoint: neon.fetchEndpoint,
    storeTimeoutMs: options.storeTimeoutMs ?? 2_000,
    onLog: (line) => logs.push(line),
  });

  const harness: EdgeHarness = {
    url: edge.url,
    apiKey,
    jwtSecret,
    primary,
    get canary() {
      return canary;
    },
    get upstash() {
      return upstash;
    },
    get neon() {
      return neon;
    },
    db,
    redisDb,
    pool,
    logs,
    async seedPlatform({ canary: isCanary = false } = {}) {
      const id = randomId('plat');
      await pool.query('INSERT INTO platform (id, name) VALUES ($1, $1)', [id]);
      await pool.query('INSERT INTO platform_plan (platform_id, canary) VALUES ($1, $2)', [id, isCanary]);
      return id;
    },
    async seedFlow(platformId) {
      const projectId = randomId('proj');
      const flowId = randomId('flow');
      await pool.query('INSERT INTO project (id, platform_id) VALUES ($1, $2)', [projectId, platformId]);
      await pool.query('INSERT INTO flow (id, project_id) VALUES ($1, $2)', [flowId, projectId]);
      return flowId;
    },
    async seedApiKey(platformId) {
      const key = `sk-${randomBytes(24).toString('hex')}`;
      const hashed = createHash('sha256').update(key).digest('hex');
      await pool.query('INSERT INTO api_key (id, platform_id, hashed_value) VALUES ($1, $2, $3)', [randomId('key'), platformId, hashed]);
      return key;
    },
    admin(body, init = {}) {
      const method = init.method ?? 'POST';
      return fetch(`${edge.url}/v1/admin/platforms/canary`, {
        method,
        headers: { 'api-key': init.apiKey ?? apiKey, 'content-type': 'application/json' },
        body: method === 'GET' ? null : JSON.stringify(body),
      });
    },
    async stopUpstash() {
      await upstash.close();
    },
    async startUpstash() {
      upstash = await startUpstashLocal({ redisUrl: redisDb.url, token: upstashToken, port: upstash.port });
    },
    async stopNeon() {
      await neon.close();
    },
    async startNeon() {
      neon = await startNeonLocal({ port: neon.port });
    },
    async stopCanary() {
      await canary.close();
    },
    async startCanary() {
      canary = await startEchoOrigin('canary', canary.port);
    },
    async close() {
      await edge.close();
      await Promise.allSettled([upstash.close(), neon.close(), primary.close(), canary.close()]);
          await Promise.all([db.drop(), redisDb.release()]);
    },
  };
  return harness;
}
