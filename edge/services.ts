import { cachedPrincipalVerifier } from '../core/auth/principal-jwt.js';
import { forgetPlatformEvidence, resetHealth } from '../core/health/health-window.js';
import { PlanStore } from '../core/plans/plan-store.js';
import { readJudgeWindow } from '../core/health/judge-window.js';
import { recordSignals } from '../core/judge/signal-batch.js';
import { describeStoreError, urlPassword } from '../core/log/redact.js';
import { CanaryControl, MembershipStore } from '../core/membership/index.js';
import { SqlAdminSessions } from '../core/operator/admin-sessions.js';
import { OperatorCommands } from '../core/operator/operator-commands.js';
import { BoundedCache } from '../core/cache/bounded-cache.js';
import { parseConfig } from './config.js';
import { HealthCounter } from './health/health-counter.js';
import { cachedCanaryCookieSigner } from './resolve/canary-cookie.js';
import { createRedisRunner, createSqlClient } from './stores/clients.js';
import type { EdgeServices } from './types.js';

// Bindings are fixed for an isolate's lifetime, so services are built once per env object. None of them holds a
// request-bound I/O object: the Upstash and Neon HTTP clients issue a fresh fetch per call.
const byEnv = new WeakMap<object, EdgeServices>();

/** Services for these bindings over the real stores, built on first use. Throws ConfigError when bindings are invalid. */
export function servicesFor(env: Env): EdgeServices {
  let services = byEnv.get(env);
  if (services === undefined) {
    services = buildServices(env);
    byEnv.set(env, services);
  }
  return services;
}

function buildServices(env: Env): EdgeServices {
  const config = parseConfig(env as unknown as Record<string, unknown>);
  const clientOptions = {
    upstashUrl: config.upstashUrl,
    upstashToken: config.upstashToken,
    databaseUrl: config.databaseUrl,
    neonHttpEndpoint: config.neonHttpEndpoint,
    timeoutMs: config.storeTimeoutMs,
  };
  // Whatever a store client puts in an error, these never reach a log line.
  const secrets = [config.databaseUrl, urlPassword(config.databaseUrl) ?? '', config.upstashToken, config.apiKey, config.jwtSecret];
  const reportStoreError = (stage: string, error: unknown): void =>
    console.error(JSON.stringify({ msg: 'store error', stage, error: describeStoreError(error, secrets) }));
  const redis = createRedisRunner(clientOptions);
  const membership = new MembershipStore({
    redis,
    sql: createSqlClient(clientOptions),
    onFallback: ({ stage, error }) => reportStoreError(stage, error),
  });
  // The operator plane waits longer for Postgres than the request path does: an emergency pause must get through.
  const adminSql = createSqlClient({ ...clientOptions, timeoutMs: config.adminStoreTimeoutMs });
  const control = new CanaryControl({
    sql: adminSql,
    membership,
    // A resumed canary is judged on its traffic after the resume only.
    beforeResume: redis === null ? undefined : () => resetHealth(redis, Date.now()),
    // A platform let back onto the canary is judged on its traffic after that only.
    beforeReadmit: redis === null ? undefined : (platformId) => forgetPlatformEvidence(redis, platformId, Date.now()),
    onHookError: reportStoreError,
  });
  return {
    config,
    membership,
    operator: new OperatorCommands({ control, plans: new PlanStore({ sql: adminSql, membership }), onStoreError: reportStoreError }),
    sessions: new SqlAdminSessions(adminSql),
    adminAuthBlocks: new BoundedCache<number>(10_000),
    health: redis === null ? null : { record: (batch) => recordSignals(redis, batch), readWindow: (nowMs) => readJudgeWindow(redis, nowMs) },
    healthCounter: new HealthCounter(),
    fetchOrigin: (url, init) => fetch(url, init),
    verifyJwt: cachedPrincipalVerifier(config.jwtSecret),
    canaryCookie: cachedCanaryCookieSigner(config.jwtSecret),
    reportStoreError,
  };
}
