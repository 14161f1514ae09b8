import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import { localStoreUrls } from '../tools/env/local-stores.js';
import { DEFAULT_DATA_DIR } from './services/local-services.js';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65_535).default(fallback);

const schema = z.object({
  EDGE_PORT: port(8787),
  PRIMARY_PORT: port(3000),
  CANARY_PORT: port(3001),
  UPSTASH_PORT: port(8079),
  NEON_PORT: port(8078),
  AP_API_KEY: z.string().min(1).optional(),
  AP_JWT_SECRET: z.string().min(1).optional(),
  AP_WORKER_SECRET: z.string().min(16).optional(),
  PRIMARY_VERSION: z.string().min(1).default('0.1.0'),
  CANARY_VERSION: z.string().min(1).default('0.2.0-canary'),
  AP_SOCKET_IO_REDIS_KEY: z.string().min(1).default('socket.io'),
  LOCAL_DATA_DIR: z.string().min(1).default(DEFAULT_DATA_DIR),
});

/** Settings of the local topology (`npm start`), each overridable by env. */
export interface StartConfig {
  edgePort: number;
  primaryPort: number;
  canaryPort: number;
  upstashPort: number;
  neonPort: number;
  redisUrl: string;
  postgresUrl: string;
  apiKey: string;
  jwtSecret: string;
  /** Shared by the workers and their apps only (never the edge). */
  workerSecret: string;
  /** True when the secrets were generated for this run (so the banner prints them). */
  generatedSecrets: boolean;
  primaryVersion: string;
  canaryVersion: string;
  socketIoRedisKey: string;
  upstashToken: string;
  /** Where services `npm start` starts itself keep their data (git-ignored `.local/` by default). */
  dataDir: string;
}

/** Reads the topology settings from the environment; generates dev secrets that are not set. */
export function loadStartConfig(env: NodeJS.ProcessEnv = process.env): StartConfig {
  // Empty strings mean "unset", as everywhere else (localStoreUrls reads the store URLs the same way).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`npm start: invalid environment (${problems})`);
  }
  const e = parsed.data;
  const stores = localStoreUrls(env);
  for (const [name, url] of [['AP_REDIS_URL', stores.redisUrl], ['AP_POSTGRES_URL', stores.postgresUrl]] as const) {
    if (!URL.canParse(url)) throw new Error(`npm start: invalid environment (${name}: not a URL)`);
  }
  return {
    edgePort: e.EDGE_PORT,
    primaryPort: e.PRIMARY_PORT,
    canaryPort: e.CANARY_PORT,
    upstashPort: e.UPSTASH_PORT,
    neonPort: e.NEON_PORT,
    redisUrl: stores.redisUrl,
    postgresUrl: stores.postgresUrl,
    apiKey: e.AP_API_KEY ?? `dev-${randomBytes(16).toString('hex')}`,
    jwtSecret: e.AP_JWT_SECRET ?? `dev-${randomBytes(24).toString('hex')}`,
    workerSecret: e.AP_WORKER_SECRET ?? `dev-worker-${randomBytes(24).toString('hex')}`,
    generatedSecrets: e.AP_API_KEY === undefined || e.AP_JWT_SECRET === undefined,
    primaryVersion: e.PRIMARY_VERSION,
    canaryVersion: e.CANARY_VERSION,
    socketIoRedisKey: e.AP_SOCKET_IO_REDIS_KEY,
    upstashToken: randomBytes(16).toString('hex'),
    dataDir: path.resolve(e.LOCAL_DATA_DIR),
  };
}
