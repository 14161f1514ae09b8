import { MembershipStore, describeStoreError } from '../core/membership/index.js';
import { parseConfig } from './config.js';
import { createRedisRunner, createSqlClient } from './stores/clients.js';
import type { EdgeServices } from './types.js';

// Bindings are fixed for an isolate's lifetime, so services are built once per env object. None of them holds a
// request-bound I/O object: the Upstash and Neon HTTP clients issue a fresh fetch per call.
const byEnv = new WeakMap<object, EdgeServices>();

/** Services for these bindings, built on first use. Throws ConfigError when bindings are invalid. */
export function servicesFor(env: Env): EdgeServices {
  let services = byEnv.get(env);
  if (services === undefined) {
    const config = parseConfig(env as unknown as Record<string, unknown>);
    const clientOptions = {
      upstashUrl: config.upstashUrl,
      upstashToken: config.upstashToken,
      databaseUrl: config.databaseUrl,
      neonHttpEndpoint: config.neonHttpEndpoint,
      timeoutMs: config.storeTimeoutMs,
    };
    const membership = new MembershipStore({
      redis: createRedisRunner(clientOptions),
      sql: createSqlClient(clientOptions),
      onFallback: ({ stage, error }) =>
        console.error(JSON.stringify({ msg: 'store fallback', stage, error: describeStoreError(error) })),
    });
    services = { config, membership };
    byEnv.set(env, services);
  }
  return services;
}
