import { z } from 'zod';

const url = () =>
  z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const schema = z.object({
  AP_PRIMARY_APP_URL: url(),
  AP_CANARY_APP_URL: z.union([z.literal(''), url()]).default(''),
  AP_API_KEY: z.string({ error: 'secret is not set' }).min(1, 'secret is not set'),
  AP_JWT_SECRET: z.string({ error: 'secret is not set' }).min(1, 'secret is not set'),
  UPSTASH_REDIS_REST_URL: z.string().default(''),
  UPSTASH_REDIS_REST_TOKEN: z.string().default(''),
  DATABASE_URL: z.string({ error: 'secret is not set' }).min(1, 'secret is not set'),
  NEON_HTTP_ENDPOINT: z.string().default(''),
  STORE_TIMEOUT_MS: z.coerce.number().int().positive().default(1_000),
});

/** Validated edge configuration. */
export interface EdgeConfig {
  primaryUrl: string;
  /** Empty = canary routing off. */
  canaryUrl: string;
  apiKey: string;
  jwtSecret: string;
  upstashUrl: string;
  upstashToken: string;
  databaseUrl: string;
  neonHttpEndpoint: string;
  storeTimeoutMs: number;
}

/** Thrown when bindings are missing or invalid; the message names the binding, never its value. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses the Worker bindings into an EdgeConfig. */
export function parseConfig(env: Record<string, unknown>): EdgeConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
  }
  const e = parsed.data;
  return {
    primaryUrl: e.AP_PRIMARY_APP_URL,
    canaryUrl: e.AP_CANARY_APP_URL,
    apiKey: e.AP_API_KEY,
    jwtSecret: e.AP_JWT_SECRET,
    upstashUrl: e.UPSTASH_REDIS_REST_URL,
    upstashToken: e.UPSTASH_REDIS_REST_TOKEN,
    databaseUrl: e.DATABASE_URL,
    neonHttpEndpoint: e.NEON_HTTP_ENDPOINT,
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
  };
}
