import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createPgPool, endPool } from '../../origin/pg-pool.js';
import { createTestDatabase, testServerUrl } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { startTcpGate } from '../../testkit/tcp-gate.js';
import type { TcpGate } from '../../testkit/tcp-gate.js';

// The teardown race behind "terminating connection due to administrator command" (57P01) after a test file's
// `DROP DATABASE … WITH (FORCE)`: pg-pool's end() resolves before its sessions have left the server. A TCP gate
// between the pool and Postgres holds the clients' goodbye (Terminate + FIN), which makes the race deterministic.

let db: TestDatabase;
let gate: TcpGate;

beforeEach(async () => {
  db = await createTestDatabase({ migrate: false });
  const server = new URL(testServerUrl());
  gate = await startTcpGate({ host: server.hostname, port: Number(server.port || 5432) });
});

afterEach(async () => {
  gate.release();
  await gate.close();
  await db.close();
});

function gatedUrl(): string {
  const url = new URL(db.url);
  url.hostname = '127.0.0.1';
  url.port = String(gate.port);
  return url.toString();
}

async function sessionsOn(database: string): Promise<number> {
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [database]);
    return rows[0]?.n ?? -1;
  } finally {
    await admin.end();
  }
}

async function twoIdleSessions(pool: pg.Pool): Promise<void> {
  const clients = await Promise.all([pool.connect(), pool.connect()]);
  for (const client of clients) client.release();
  expect(await sessionsOn(db.name)).toBe(2);
}

describe('pg-pool end() (why endPool exists)', () => {
  it('resolves while its sessions are still open, so a forced drop right after terminates them with 57P01', async () => {
    const pool = new pg.Pool({ connectionString: gatedUrl(), max: 2 });
    const errors: string[] = [];
    pool.on('error', (error: Error & { code?: string }) => errors.push(error.code ?? error.message));
    await twoIdleSessions(pool);
    gate.hold();
    await pool.end();
    expect(await sessionsOn(db.name)).toBe(2);
    await db.close();
    await expect.poll(() => errors).toContain('57P01');
  });
});

describe('endPool', () => {
  it('resolves only after the server has closed every session of the pool', async () => {
    const errors: Error[] = [];
    const pool = createPgPool({ connectionString: gatedUrl(), max: 2 }, (error) => errors.push(error));
    await twoIdleSessions(pool);
    gate.hold();
    let ended = false;
    const ending = endPool(pool).then(() => {
      ended = true;
    });
    expect(await sessionsOn(db.name)).toBe(2);
    expect(ended).toBe(false);
    gate.release();
    await ending;
    expect(await sessionsOn(db.name)).toBe(0);
    await db.close();
    expect(errors).toEqual([]);
  });

  it('waits for a query still running when it is called', async () => {
    const pool = createPgPool({ connectionString: gatedUrl(), max: 1 }, () => undefined);
    const running = pool.query('SELECT pg_sleep(0.2) AS slept');
    await expect.poll(() => pool.totalCount).toBe(1);
    await endPool(pool);
    expect((await running).rows).toHaveLength(1);
    expect(await sessionsOn(db.name)).toBe(0);
  });
});
