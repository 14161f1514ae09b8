import pg from 'pg';
import { createPgPool, endPool } from '../../origin/pg-pool.js';
import type { PgTarget } from './connection-string.js';

/** A refused connection fails at once; this bounds the wait for a Postgres that does not answer at all. */
const CONNECT_TIMEOUT_MS = 10_000;

/** node-postgres settings for one target. */
export function clientConfig(target: PgTarget): pg.ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    password: target.password,
    application_name: target.applicationName,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  };
}

/** A small pg.Pool per distinct connection string, as Neon keeps one pool per endpoint, role and database. */
export class PoolRegistry {
  private readonly pools = new Map<string, pg.Pool>();
  private closed = false;

  /** The pool for the target's connection string, created on first use. */
  pool(target: PgTarget): pg.Pool {
    if (this.closed) throw new Error('neon-local is closed');
    let pool = this.pools.get(target.connectionString);
    if (pool === undefined) {
      // An idle client dies when its database is dropped WITH (FORCE) or Postgres restarts; the pool replaces it on
      // the next query, so the error needs no handling beyond not taking the endpoint down.
      pool = createPgPool({ ...clientConfig(target), max: 10, idleTimeoutMillis: 30_000, allowExitOnIdle: true }, () => undefined);
      this.pools.set(target.connectionString, pool);
    }
    return pool;
  }

  /** Ends every pool once its checked-out clients come back, and resolves when their sessions have left the server. */
  async closeAll(): Promise<void> {
    this.closed = true;
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((pool) => endPool(pool)));
  }
}

/**
 * Asks Postgres to cancel whatever backend `pid` is running, over a separate connection, as Neon does when the HTTP
 * client goes away mid-query (otherwise an abandoned statement keeps its locks and its pooled connection).
 */
export async function cancelBackend(target: PgTarget, pid: number): Promise<void> {
  const client = new pg.Client(clientConfig(target));
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT pg_cancel_backend($1)', [pid]);
  } catch {
    // Best effort: the statement then simply runs to completion.
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The backend process id of a connected client (node-postgres keeps it but does not type it). */
export function backendPid(client: pg.PoolClient): number | undefined {
  const pid: unknown = Reflect.get(client, 'processID');
  return typeof pid === 'number' ? pid : undefined;
}
