import { hostname } from 'node:os';
import { z } from 'zod';
import { shapeOf, toConfig } from '../core/config/env-table.js';
import type { ConfigOf, EnvVar } from '../core/config/env-table.js';
import { JUDGE_DEFAULTS } from '../core/judge/judge-settings.js';

const booleanString = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((v) => v === 'true' || v === '1');

const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

const enabledString = z
  .enum(['true', 'false', '1', '0'])
  .default('true')
  .transform((v) => v === 'true' || v === '1');

function v<Key extends string, Schema extends z.ZodType>(key: Key, schema: Schema, doc: string, defaultDoc?: string): EnvVar<Key, Schema> {
  return { key, schema, doc, ...(defaultDoc === undefined ? {} : { defaultDoc }) };
}

/**
 * The origin's environment, each variable declared once: name, config key, schema with its default, and the meaning
 * the README's table shows (generated from here by `npm run docs:config`; a test fails when the README is stale).
 * The contract's names first (docs/architecture.md §1), then the origin's own knobs.
 */
export const ORIGIN_ENV = {
  AP_CONTAINER_TYPE: v('containerType', z.enum(['APP', 'WORKER']), '`APP` or `WORKER`'),
  AP_FRONTEND_URL: v('frontendUrl', z.url().optional(), 'the app\'s URL; a worker connects its RPC channel to it and posts results there (required for `WORKER`)'),
  AP_IS_CANARY_WORKER: v('isCanaryWorker', booleanString, '`true`: the worker polls `canaryWorkerJobs` only'),
  AP_IS_CANARY_APP: v(
    'isCanaryApp',
    booleanString,
    '`true`: this app runs the canary build; it never schedules or runs guard, judge or plan ticks (a build does not judge itself)',
  ),
  AP_VERSION: v('version', z.string().min(1), 'build tag; header `x-ap-version` on every app response; app and worker versions must match'),
  AP_REDIS_URL: v('redisUrl', z.url(), 'shared Redis (BullMQ, membership cache, Socket.IO adapter)'),
  AP_POSTGRES_URL: v('postgresUrl', z.url(), 'shared Postgres'),
  AP_JWT_SECRET: v('jwtSecret', z.string().min(1), 'HS256 secret of principal JWTs (same value as the edge)'),
  AP_WORKER_SECRET: v('workerSecret', z.string().min(16), 'shared by workers and their app only; keys 5-minute worker tokens; must differ from `AP_API_KEY`'),
  AP_API_KEY: v('apiKey', z.string().min(1).optional(), 'the edge\'s admin key; a contract name (docs/architecture.md §1) the origin does not need'),
  AP_PORT: v('port', z.coerce.number().int().min(0).max(65535).default(3000), 'HTTP port of the app'),
  AP_HOST: v('host', z.string().min(1).default('0.0.0.0'), 'interface the app listens on'),
  AP_INSTANCE_ID: v(
    'instanceId',
    z.string().min(1).default(() => `${hostname()}-${process.pid}`),
    'names this process in logs and in the flips consumer group',
    '`<hostname>-<pid>`',
  ),
  AP_SOCKET_IO_REDIS_KEY: v('socketIoRedisKey', z.string().min(1).default('socket.io'), 'Socket.IO adapter channel prefix (pub/sub ignores the DB index: isolate deployments and tests by key)'),
  AP_WEBHOOK_MAX_BODY_BYTES: v('webhookMaxBodyBytes', positiveInt(1024 * 1024), 'webhook body limit (413 beyond)'),
  AP_WEBHOOK_SYNC_TIMEOUT_MS: v('webhookSyncTimeoutMs', positiveInt(30_000), 'how long `/sync` waits for the run (504 beyond)'),
  AP_WORKER_CONCURRENCY: v('workerConcurrency', positiveInt(5), 'jobs a worker runs at once'),
  AP_WORKER_LOCK_DURATION_MS: v('workerLockDurationMs', positiveInt(30_000), 'BullMQ job lock; a killed worker\'s job is retried after it'),
  AP_WORKER_STALLED_INTERVAL_MS: v('workerStalledIntervalMs', positiveInt(30_000), 'BullMQ stalled-job check period'),
  AP_JOB_ATTEMPTS: v('jobAttempts', positiveInt(5), 'attempts of a flow-run job (retries back off exponentially)'),
  AP_JOB_BACKOFF_MS: v('jobBackoffMs', positiveInt(1_000), 'first retry delay'),
  AP_SYSTEM_JOB_INTERVAL_MS: v('systemJobIntervalMs', positiveInt(3_600_000), 'period of the repeatable `purge-old-runs` system job'),
  AP_RUN_RETENTION_DAYS: v('runRetentionDays', positiveInt(30), 'finished runs older than this are purged'),
  AP_SHUTDOWN_TIMEOUT_MS: v('shutdownTimeoutMs', positiveInt(25_000), 'SIGTERM grace; in-flight jobs not done by then are handed back'),
  AP_FLIPS_CLAIM_IDLE_MS: v('flipsClaimIdleMs', positiveInt(30_000), 'a flip left unacknowledged this long by a dead app is taken over'),
  AP_FLIP_MOVE_PAGE_SIZE: v('flipMovePageSize', positiveInt(100), 'job ids a flip reads per page while moving a backlog; their payloads are read and moved in batches of at most 8 MiB, so memory stays bounded whatever the job size'),
  SOCKET_HANDOVER_RATE: v(
    'socketHandoverRate',
    z.coerce.number().int().positive().max(10_000).default(50),
    'at most this many live Socket.IO connections per second an app asks to reconnect (`canary:reconnect`) when their platform moved to the other side; they are spread over a jittered window',
  ),
  // The judge (docs/architecture.md §8) keeps the guard's knobs (CANARY_GUARD_*, same meaning where they still apply)
  // and adds its own (CANARY_JUDGE_*). Defaults: core/judge/judge-settings.ts JUDGE_DEFAULTS.
  CANARY_GUARD_ENABLED: v('guardEnabled', enabledString, 'the judge (the health guard\'s successor): compares the canary with the baseline each tick and quarantines or pauses (docs/architecture.md §8)'),
  CANARY_GUARD_INTERVAL_SECONDS: v('guardIntervalSeconds', positiveInt(30), 'how often the judge judges (one tick across all primary apps)'),
  CANARY_GUARD_WINDOW_SECONDS: v('guardWindowSeconds', z.coerce.number().int().positive().max(3600).default(300), 'the traffic the judge judges: the last this many seconds (at most 3600)'),
  CANARY_GUARD_MIN_REQUESTS: v('guardMinRequests', positiveInt(JUDGE_DEFAULTS.minRequests), 'below this many canary requests in the window the request metrics are inconclusive (never pass)'),
  CANARY_GUARD_MAX_ERROR_RATE: v(
    'guardMaxErrorRate',
    z.coerce.number().min(0).max(1).default(JUDGE_DEFAULTS.maxErrorRate),
    'the error and job-failure rate the canary may not exceed when the baseline has too little data to compare with',
  ),
  CANARY_JUDGE_MIN_JOBS: v('judgeMinJobs', positiveInt(JUDGE_DEFAULTS.minJobs), 'below this many canary jobs in the window the job metrics are inconclusive'),
  CANARY_JUDGE_MAX_PLATFORM_SHARE: v(
    'judgeMaxPlatformShare',
    z.coerce.number().gt(0).max(1).default(JUDGE_DEFAULTS.maxPlatformShare),
    'no platform weighs more than this share of an arm, in any metric (its volume, its errors, its slow requests)',
  ),
  CANARY_JUDGE_MIN_PLATFORMS: v(
    'judgeMinPlatforms',
    positiveInt(JUDGE_DEFAULTS.minPlatforms),
    'a failure driven by fewer platforms than this quarantines them (explicit canary=false, actor judge); from this many on it pauses canary routing',
  ),
  CANARY_JUDGE_ERROR_TOLERANCE: v(
    'judgeErrorTolerance',
    z.coerce.number().min(0).max(10).default(JUDGE_DEFAULTS.errorTolerance),
    'how much higher (relative) than the baseline\'s the canary\'s error and job-failure rates may be before it is a regression',
  ),
  CANARY_JUDGE_LATENCY_TOLERANCE: v(
    'judgeLatencyTolerance',
    z.coerce.number().min(0).max(10).default(JUDGE_DEFAULTS.latencyTolerance),
    'how much slower (relative) than the baseline\'s p95 the canary\'s p95 (requests, jobs) may be before it is a regression',
  ),
  CANARY_JUDGE_LATENCY_FLOOR_MS: v(
    'judgeLatencyFloorMs',
    z.coerce.number().int().min(0).max(600_000).default(JUDGE_DEFAULTS.latencyFloorMs),
    '...and at least this many ms slower: a few ms on a fast endpoint are noise, not a regression',
  ),
  CANARY_JUDGE_CONFIDENCE_Z: v(
    'judgeConfidenceZ',
    z.coerce.number().gt(0).max(10).default(JUDGE_DEFAULTS.confidenceZ),
    'one-sided z a difference must exceed to fail a metric (3.09 = 99.9% confidence)',
  ),
  CANARY_NOTIFY_URL: v(
    'notifyUrl',
    z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
    'receives a signed POST for every plan transition, quarantine, pause and resume (JSON with a `text` line for Slack/Teams-style webhooks); unset: no notifications',
  ),
  CANARY_NOTIFY_SECRET: v('notifySecret', z.string().min(16).optional(), 'keys `x-canary-signature: sha256=<HMAC-SHA256 of the body>`; required with `CANARY_NOTIFY_URL` (at least 16 characters)'),
};

/** The origin's configuration, parsed once from the environment. */
export type Config = ConfigOf<typeof ORIGIN_ENV>;

const EnvSchema = z.object(shapeOf(ORIGIN_ENV));

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
  const cleaned = Object.fromEntries(Object.entries(env).filter(([name, value]) => name in ORIGIN_ENV && value !== undefined && value !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.');
      return cleaned[name] === undefined ? `${name} is required` : `${name} is invalid (${issue.message})`;
    });
    throw new ConfigError(`invalid origin configuration: ${problems.join('; ')}`);
  }
  const config = toConfig(ORIGIN_ENV, parsed.data);
  if (config.apiKey !== undefined && config.workerSecret === config.apiKey) {
    // A worker token must never be mintable from the admin key (the edge and every operator tool hold that one).
    throw new ConfigError('invalid origin configuration: AP_WORKER_SECRET must differ from AP_API_KEY');
  }
  if (config.notifyUrl !== undefined && config.notifySecret === undefined) {
    throw new ConfigError('invalid origin configuration: CANARY_NOTIFY_SECRET is required when CANARY_NOTIFY_URL is set (notifications are signed)');
  }
  if (config.containerType === 'WORKER' && config.frontendUrl === undefined) {
    throw new ConfigError('invalid origin configuration: AP_FRONTEND_URL is required when AP_CONTAINER_TYPE=WORKER');
  }
  return config;
}
