import { z } from 'zod/mini';

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

const schema = z.object({
  AP_PRIMARY_APP_URL: url(),
  AP_CANARY_APP_URL: optionalUrl(),
  AP_API_KEY: secret(),
  AP_JWT_SECRET: secret(),
  UPSTASH_REDIS_REST_URL: optionalUrl(),
  UPSTASH_REDIS_REST_TOKEN: optionalText(),
  DATABASE_URL: postgresUrl(),
  NEON_HTTP_ENDPOINT: optionalUrl(),
  STORE_TIMEOUT_MS: z._default(z.coerce.number().check(z.int(), z.positive()), 1_000),
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
