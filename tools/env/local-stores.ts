/** Redis of a local run (`npm start`, tests, bench) when `AP_REDIS_URL` is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
/** Postgres database of a local run when `AP_POSTGRES_URL` is unset (created if missing). */
export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/canary_edge';

/** Where the local stores are: `AP_REDIS_URL` and `AP_POSTGRES_URL`, unset or empty meaning the defaults. */
export interface LocalStoreUrls {
  redisUrl: string;
  postgresUrl: string;
}

function setting(value: string | undefined, fallback: string): string {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? fallback : trimmed;
}

/**
 * The one reading of the local store settings: every tool, test and `npm start` treats an empty variable (compose
 * files and shells export `VAR=`) as unset.
 */
export function localStoreUrls(env: NodeJS.ProcessEnv = process.env): LocalStoreUrls {
  return {
    redisUrl: setting(env.AP_REDIS_URL, DEFAULT_REDIS_URL),
    postgresUrl: setting(env.AP_POSTGRES_URL, DEFAULT_POSTGRES_URL),
  };
}

/** The same server's maintenance database (`postgres`), to create and drop databases on. */
export function maintenanceUrl(postgresUrl: string): string {
  const url = new URL(postgresUrl);
  url.pathname = '/postgres';
  return url.toString();
}
