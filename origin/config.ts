import { hostname } from 'node:os';
import { z } from 'zod';

/*
 * Origin environment. DESIGN §3 names first, then the origin's own knobs (all optional, defaulted).
 *
 * | name                              | default                | meaning                                                        |
 * |-----------------------------------|------------------------|----------------------------------------------------------------|
 * | AP_CONTAINER_TYPE                 | (required)             | `APP` or `WORKER`                                              |
 * | AP_FRONTEND_URL                   | (required for WORKER)  | app URL a worker connects its RPC channel to and posts results |
 * | AP_IS_CANARY_WORKER               | false                  | `true`: poll `canaryWorkerJobs` only                           |
 * | AP_VERSION                        | (required)             | build tag; header `x-ap-version`; app and worker must match    |
 * | AP_REDIS_URL                      | (required)             | shared Redis (BullMQ, membership cache, Socket.IO adapter)     |
 * | AP_POSTGRES_URL                   | (required)             | shared Postgres                                                |
 * | AP_JWT_SECRET                     | (required)             | HS256 secret of principal JWTs                                 |
 * | AP_WORKER_SECRET                  | (required)             | shared by workers and their app; keys short-lived worker tokens (never the admin key) |
 * | AP_API_KEY                        | (optional)             | the edge's admin key; the origin does not use it (DESIGN §3 lists it) |
 * | AP_PORT                           | 3000                   | HTTP port of the app                                           |
 * | AP_HOST                           | 0.0.0.0                | interface the app listens on                                   |
 * | AP_INSTANCE_ID                    | `<hostname>-<pid>`     | names this process in logs and in the flips consumer group     |
 * | AP_SOCKET_IO_REDIS_KEY            | socket.io              | Socket.IO redis-adapter channel prefix (pub/sub ignores the DB index, so isolate per deployment/test) |
 * | AP_WEBHOOK_MAX_BODY_BYTES         | 1048576                | webhook body limit (413 beyond)                                |
 * | AP_WEBHOOK_SYNC_TIMEOUT_MS        | 30000                  | how long `/sync` waits for the run (504 beyond)                |
 * | AP_WORKER_CONCURRENCY             | 5                      | jobs a worker runs at once                                     |
 * | AP_WORKER_LOCK_DURATION_MS        | 30000                  | BullMQ job lock; a killed worker's job is retried after it     |
 * | AP_WORKER_STALLED_INTERVAL_MS     | 30000                  | BullMQ stalled-job check period                                |
 * | AP_JOB_ATTEMPTS                   | 5                      | attempts of a flow-run job (retries use exponential backoff)   |
 * | AP_JOB_BACKOFF_MS                 | 1000                   | first retry delay                                              |
 * | AP_SYSTEM_JOB_INTERVAL_MS         | 3600000                | period of the repeatable `purge-old-runs` system job           |
 * | AP_RUN_RETENTION_DAYS             | 30                     | finished runs older than this are purged                       |
 * | AP_SHUTDOWN_TIMEOUT_MS            | 25000                  | SIGTERM grace; in-flight jobs not done by then are returned     |
 * | AP_FLIPS_CLAIM_IDLE_MS            | 30000                  | a flip left unacked this long by a dead app is taken over      |
 * | AP_FLIP_MOVE_PAGE_SIZE            | 100                    | jobs a flip reads per page while moving a backlog (bounds memory) |
 */

const booleanString = z
  .enum(['true', 'false', '1', '0', ''])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const EnvSchema = z.object({
  AP_CONTAINER_TYPE: z.enum(['APP', 'WORKER']),
  AP_FRONTEND_URL: z.url().optional(),
  AP_IS_CANARY_WORKER: booleanString,
  AP_VERSION: z.string().min(1),
  AP_REDIS_URL: z.url(),
  AP_POSTGRES_URL: z.url(),
  AP_JWT_SECRET: z.string().min(1),
  AP_WORKER_SECRET: z.string().min(16),
  AP_API_KEY: z.string().min(1).optional(),
  AP_PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  AP_HOST: z.string().min(1).default('0.0.0.0'),
  AP_INSTANCE_ID: z.string().min(1).default(`${hostname()}-${process.pid}`),
  AP_SOCKET_IO_REDIS_KEY: z.string().min(1).default('socket.io'),
  AP_WEBHOOK_MAX_BODY_BYTES: positiveInt(1024 * 1024),
  AP_WEBHOOK_SYNC_TIMEOUT_MS: positiveInt(30_000),
  AP_WORKER_CONCURRENCY: positiveInt(5),
  AP_WORKER_LOCK_DURATION_MS: positiveInt(30_000),
  AP_WORKER_STALLED_INTERVAL_MS: positiveInt(30_000),
  AP_JOB_ATTEMPTS: positiveInt(5),
  AP_JOB_BACKOFF_MS: positiveInt(1_000),
  AP_SYSTEM_JOB_INTERVAL_MS: positiveInt(3_600_000),
  AP_RUN_RETENTION_DAYS: positiveInt(30),
  AP_SHUTDOWN_TIMEOUT_MS: positiveInt(25_000),
  AP_FLIPS_CLAIM_IDLE_MS: positiveInt(30_000),
  AP_FLIP_MOVE_PAGE_SIZE: positiveInt(100),
});

/** The origin's configuration, parsed once from the environment. */
export interface Config {
  containerType: 'APP' | 'WORKER';
  frontendUrl: string | null;
  isCanaryWorker: boolean;
  version: string;
  redisUrl: string;
  postgresUrl: string;
  jwtSecret: string;
  workerSecret: string;
  apiKey: string | null;
  port: number;
  host: string;
  instanceId: string;
  socketIoRedisKey: string;
  webhookMaxBodyBytes: number;
  webhookSyncTimeoutMs: number;
  workerConcurrency: number;
  workerLockDurationMs: number;
  workerStalledIntervalMs: number;
  jobAttempts: number;
  jobBackoffMs: number;
  systemJobIntervalMs: number;
  runRetentionDays: number;
  shutdownTimeoutMs: number;
  flipsClaimIdleMs: number;
  flipMovePageSize: number;
}

/** Thrown with every offending variable named, so a misconfigured container fails with one readable line. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses and validates the origin's environment; throws ConfigError naming each missing or invalid variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty strings mean "unset" (compose files and shells often export VAR= ).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return cleaned[name] === undefined ? `${name} is required` : `${name} is invalid (${issue.message})`;
    });
    throw new ConfigError(`invalid origin configuration: ${problems.join('; ')}`);
  }
  const e = parsed.data;
  if (e.AP_API_KEY !== undefined && e.AP_WORKER_SECRET === e.AP_API_KEY) {
    // A worker token must never be mintable from the admin key (the edge and every operator tool hold that one).
    throw new ConfigError('invalid origin configuration: AP_WORKER_SECRET must differ from AP_API_KEY');
  }
  if (e.AP_CONTAINER_TYPE === 'WORKER' && e.AP_FRONTEND_URL === undefined) {
    throw new ConfigError('invalid origin configuration: AP_FRONTEND_URL is required when AP_CONTAINER_TYPE=WORKER');
  }
  return {
    containerType: e.AP_CONTAINER_TYPE,
    frontendUrl: e.AP_FRONTEND_URL ?? null,
    isCanaryWorker: e.AP_IS_CANARY_WORKER,
    version: e.AP_VERSION,
    redisUrl: e.AP_REDIS_URL,
    postgresUrl: e.AP_POSTGRES_URL,
    jwtSecret: e.AP_JWT_SECRET,
    workerSecret: e.AP_WORKER_SECRET,
    apiKey: e.AP_API_KEY ?? null,
    port: e.AP_PORT,
    host: e.AP_HOST,
    instanceId: e.AP_INSTANCE_ID,
    socketIoRedisKey: e.AP_SOCKET_IO_REDIS_KEY,
    webhookMaxBodyBytes: e.AP_WEBHOOK_MAX_BODY_BYTES,
    webhookSyncTimeoutMs: e.AP_WEBHOOK_SYNC_TIMEOUT_MS,
    workerConcurrency: e.AP_WORKER_CONCURRENCY,
    workerLockDurationMs: e.AP_WORKER_LOCK_DURATION_MS,
    workerStalledIntervalMs: e.AP_WORKER_STALLED_INTERVAL_MS,
    jobAttempts: e.AP_JOB_ATTEMPTS,
    jobBackoffMs: e.AP_JOB_BACKOFF_MS,
    systemJobIntervalMs: e.AP_SYSTEM_JOB_INTERVAL_MS,
    runRetentionDays: e.AP_RUN_RETENTION_DAYS,
    shutdownTimeoutMs: e.AP_SHUTDOWN_TIMEOUT_MS,
    flipsClaimIdleMs: e.AP_FLIPS_CLAIM_IDLE_MS,
    flipMovePageSize: e.AP_FLIP_MOVE_PAGE_SIZE,
  };
}
