import pg from 'pg';

/** How long `endPool` waits for the server to close a session before it cuts the socket itself. */
const SESSION_END_TIMEOUT_MS = 5_000;

const sessionsByPool = new WeakMap<pg.Pool, Set<pg.Client>>();

/**
 * A pg.Pool whose errors go to `onError` and whose sessions `endPool` can wait for. Every pool needs an error
 * listener: an idle client that the server terminates (a restart, `DROP DATABASE … WITH (FORCE)`) is reported as a
 * pool 'error' event, which without a listener is an uncaught exception that takes the process down.
 */
export function createPgPool(config: pg.PoolConfig, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool(config);
  const sessions = new Set<pg.Client>();
  pool.on('connect', (client) => {
    sessions.add(client);
    client.once('end', () => sessions.delete(client));
  });
  pool.on('error', onError);
  sessionsByPool.set(pool, sessions);
  return pool;
}

function socketOf(client: pg.Client): { destroy(): void } | null {
  const connection: unknown = Reflect.get(client, 'connection');
  const stream: unknown = typeof connection === 'object' && connection !== null ? Reflect.get(connection, 'stream') : null;
  return typeof stream === 'object' && stream !== null && typeof Reflect.get(stream, 'destroy') === 'function'
    ? (stream as { destroy(): void })
    : null;
}

function sessionEnded(client: pg.Client): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => socketOf(client)?.destroy(), SESSION_END_TIMEOUT_MS);
    client.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Ends a pool made by `createPgPool` and resolves only once every one of its sessions is closed on the wire.
 * pg-pool's own `end()` resolves as soon as it has *asked* its clients to end: a caller that drops the database next
 * still finds those sessions open, the server terminates them (57P01) and the ending client reports that as an error.
 */
export async function endPool(pool: pg.Pool): Promise<void> {
  const sessions = sessionsByPool.get(pool);
  if (!pool.ended && !pool.ending) await pool.end();
  if (sessions === undefined) return;
  // A client still in the set has not emitted 'end' yet (the set drops it on 'end').
  await Promise.all([...sessions].map((client) => sessionEnded(client)));
}
