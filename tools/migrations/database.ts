import pg from 'pg';
import { DEFAULT_POSTGRES_URL, localStoreUrls, maintenanceUrl } from '../env/local-stores.js';

export { maintenanceUrl };

/** The database URL the CLIs use: `AP_POSTGRES_URL`, else the local default. */
export function databaseUrlFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return localStoreUrls(env).postgresUrl;
}

// One constant key for every migrator (migrate and rollback alike), so two of them never interleave.
const MIGRATION_LOCK_KEY = 7_143_220_511_920_301;

/** Opens a client; callers must `end()` it. */
export async function connect(databaseUrl: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: databaseUrl });
  // A dropped connection otherwise surfaces as an unhandled 'error' event and kills the process.
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

/** Runs `fn` with a connected client and always closes it. */
export async function withClient<T>(databaseUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(databaseUrl);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs `fn` holding the session-level migration advisory lock. */
export async function withMigrationLock<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    return await fn();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
}

/** Quotes an SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The database name of a connection URL. */
export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) throw new Error(`${databaseUrl} names no database; add one, e.g. ${DEFAULT_POSTGRES_URL}`);
  return name;
}

function isPgError(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && (error as { code: unknown }).code === code;
}

/** Creates the URL's database when it does not exist yet; returns true when it created it. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  try {
    await withClient(databaseUrl, async () => undefined);
    return false;
  } catch (error) {
    // 3D000 invalid_catalog_name: the database does not exist. Anything else (auth, network) is the caller's problem.
    if (!isPgError(error, '3D000')) throw error;
  }
  const name = databaseName(databaseUrl);
  try {
    await withClient(maintenanceUrl(databaseUrl), (admin) => admin.query(`CREATE DATABASE ${quoteIdent(name)}`));
    return true;
  } catch (error) {
    // 42P04 duplicate_database: a concurrent migrator created it first, which is what we wanted.
    if (isPgError(error, '42P04')) return false;
    throw error;
  }
}
