import { z } from 'zod/mini';
import { shapeOf, toConfig } from '../core/config/env-table.js';
import type { ConfigOf, EnvVar } from '../core/config/env-table.js';

// zod/mini: the same validation as zod, but tree-shakable, which keeps the Worker bundle small.
const url = () => z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const secret = () => z.string({ error: 'secret is not set' }).check(z.minLength(1, 'secret is not set'));
const optionalText = () => z._default(z.string(), '');
const optionalUrl = () => z._default(z.union([z.literal(''), url()]), '');
// The Neon driver echoes a connection string it cannot parse in its error, password included; refusing it here means
// that error (and the password) can never reach a log line.
const postgresUrl = () =>
  secret().check(
    z.refine((value) => {
      try {
        const parsed = new URL(value);
        return (parsed.protocol === 'postgres:' || parsed.protocol === 'postgresql:') && parsed.hostname !== '' && parsed.hash === '';
      } catch {
        return false;
      }
    }, 'must be a postgres:// URL (percent-encode characters such as # @ / : in the user name and password)'),
  );

function b<Key extends string, Schema extends z.ZodMiniType>(key: Key, kind: EnvVar['kind'], schema: Schema, doc: string): EnvVar<Key, Schema> {
  return { key, kind, schema, doc };
}

/**
 * The edge's bindings, each declared once: name, config key, kind, schema with its default, and the meaning the
 * README's table shows (generated from here by `npm run docs:config`; a test fails when the README is stale).
 */
export const EDGE_BINDINGS = {
  AP_PRIMARY_APP_URL: b('primaryUrl', 'var', url(), 'base URL of the primary origin (may include a base path)'),
  AP_CANARY_APP_URL: b('canaryUrl', 'var', optionalUrl(), 'base URL of the canary origin; empty = canary routing off, everything to the primary'),
  AP_API_KEY: b('apiKey', 'secret', secret(), 'admin API key (compared in constant time)'),
  AP_JWT_SECRET: b('jwtSecret', 'secret', secret(), 'HS256 secret of principal JWTs; also keys the `ap_canary` cookie'),
  UPSTASH_REDIS_REST_URL: b('upstashUrl', 'secret', optionalUrl(), 'Upstash Redis REST URL; empty = no cache, every lookup reads Postgres'),
  UPSTASH_REDIS_REST_TOKEN: b('upstashToken', 'secret', optionalText(), 'Upstash Redis REST token'),
  DATABASE_URL: b('databaseUrl', 'secret', postgresUrl(), 'Postgres connection string for `@neondatabase/serverless` (HTTP queries)'),
  NEON_HTTP_ENDPOINT: b('neonHttpEndpoint', 'var', optionalUrl(), 'local development only: where the Neon driver sends queries (the repo\'s local endpoint); empty when deployed'),
  STORE_TIMEOUT_MS: b('storeTimeoutMs', 'var', z._default(z.coerce.number().check(z.int(), z.positive()), 1_000), 'per-call Redis/Postgres timeout of the request path, in ms'),
  ADMIN_HOSTNAME: b(
    'adminHostname',
    'var',
    z._default(z.union([z.literal(''), z.string().check(z.regex(/^[a-z0-9.-]+(:\d{1,5})?$/i, 'must be a host name (and optional port), e.g. canary-admin.example.com'))]), ''),
    'the only host that serves `/__canary/` and `/v1/admin/canary/*` (404 elsewhere); empty: every host. Set it in production so the page has an origin of its own',
  ),
  LOCAL_DEVELOPMENT: b(
    'localDevelopment',
    'var',
    z._default(z.pipe(z.enum(['', 'true', 'false']), z.transform((v) => v === 'true')), false),
    '`true` only on a developer\'s machine (npm start, wrangler dev): allows an `AP_API_KEY` shorter than 32 characters',
  ),
  CANARY_SKEW_MAX_AGE_SECONDS: b(
    'skewMaxAgeSeconds',
    'var',
    z._default(z.coerce.number().check(z.int(), z.gte(0), z.lte(604_800)), 3_600),
    'skew protection: for this many seconds after a document load, its static reads go to the build that served it (0: off); a pause or the judge\'s quarantine of the platform ends it at once',
  ),
  ADMIN_STORE_TIMEOUT_MS: b(
    'adminStoreTimeoutMs',
    'var',
    z._default(z.coerce.number().check(z.int(), z.positive()), 10_000),
    'Postgres timeout of admin changes, in ms: a pause must get through a slow database (beyond it: 503, outcome stated)',
  ),
};

/** The Workers Rate Limiting bindings (wrangler.toml `[[ratelimits]]`) and what each budgets, for the README table. */
export const EDGE_RATE_LIMITERS = {
  UNKNOWN_ID_LIMITER: 'Postgres reads for API keys and flow ids the cache does not know, per client IP (over budget: 429)',
  ADMIN_AUTH_LIMITER: 'failed admin authentications (API `api-key`, page sign-in) per client IP (over budget: 429 with `Retry-After`, the right key included)',
} as const;

/** Validated edge configuration. */
export type EdgeConfig = ConfigOf<typeof EDGE_BINDINGS>;

/** The edge's string bindings by name (what a local runner passes to workerd). */
export type EdgeBindings = Partial<Record<keyof typeof EDGE_BINDINGS, string>>;

const schema = z.object(shapeOf(EDGE_BINDINGS));

/** Thrown when bindings are missing or invalid; the message names the binding, never its value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Shortest admin key the edge accepts outside local development: it must not be guessable. */
export const MIN_API_KEY_LENGTH = 32;

/** Parses the Worker bindings into an EdgeConfig. */
export function parseConfig(env: Record<string, unknown>): EdgeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const config = toConfig(EDGE_BINDINGS, parsed.data);
  if (!config.localDevelopment && config.apiKey.length < MIN_API_KEY_LENGTH) {
    throw new ConfigError(
      `AP_API_KEY: must be at least ${MIN_API_KEY_LENGTH} characters outside local development; generate one (openssl rand -hex 32) and set it with wrangler secret put AP_API_KEY`,
    );
  }
  return config;
}
