import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { NeonDbError, neon, neonConfig } from '@neondatabase/serverless';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNeonLocal } from '../../dev/neon-local/server.js';
import type { NeonLocal } from '../../dev/neon-local/server.js';
import { allocatePort } from '../../testkit/ports.js';

const ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';
const suffix = randomBytes(6).toString('hex');
const database = `neon_local_${suffix}`;
const databaseUrl = `postgres://postgres@127.0.0.1:5432/${database}`;

let local: NeonLocal;
/** A direct connection to the test database, to check what really reached Postgres. */
let direct: pg.Client;
const sql = neon(databaseUrl);

function id(): string {
  return `id_${randomBytes(6).toString('hex')}`;
}

/** A raw request to the endpoint, for protocol details the driver never exercises. */
async function post(body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const response = await fetch(local.fetchEndpoint, {
    method: 'POST',
    body,
    headers: { 'Neon-Connection-String': databaseUrl, ...headers },
  });
  return { status: response.status, json: await response.json() };
}

async function rejection(promise: Promise<unknown>): Promise<NeonDbError> {
  const error: unknown = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof NeonDbError)) throw new Error(`expected a NeonDbError, got ${String(error)}`);
  return error;
}

beforeAll(async () => {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  direct = new pg.Client({ connectionString: databaseUrl });
  await direct.connect();
  await direct.query('CREATE TABLE item (id text PRIMARY KEY, n int4, note text)');
  local = await startNeonLocal();
  neonConfig.fetchEndpoint = local.fetchEndpoint;
});

afterAll(async () => {
  await local.close();
  await direct.end();
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  await admin.end();
});

describe('POST /sql', () => {
  it('runs tagged-template queries with their values as parameters', async () => {
    const note = "it's a 'quoted' value; DROP TABLE item";
    const rows = await sql`SELECT ${note}::text AS note, ${41}::int4 + 1 AS answer`;
    expect(rows).toEqual([{ note, answer: 42 }]);
  });

  it('runs .query(text, params) calls', async () => {
    const key = id();
    await sql.query('INSERT INTO item (id, n, note) VALUES ($1, $2, $3)', [key, 7, null]);
    const rows = await sql.query('SELECT id, n, note FROM item WHERE id = $1', [key]);
    expect(rows).toEqual([{ id: key, n: 7, note: null }]);
  });

  it('returns Postgres text so the driver parses each type as it documents', async () => {
    const [row] = await sql`
      SELECT 2147483647::int4 AS int4, 9007199254740993::int8 AS int8, 12345678901234567890.123::numeric AS numeric,
             true AS yes, false AS no, 'héllo, "world"'::text AS text, '{"a":[1,{"b":null}],"c":"d"}'::jsonb AS jsonb,
             '2024-02-29T12:34:56.789Z'::timestamptz AS at, ARRAY['a', 'b c', 'with "quote"', NULL]::text[] AS list,
             NULL::int4 AS nothing`;
    expect(row).toEqual({
      int4: 2147483647,
      int8: '9007199254740993',
      numeric: '12345678901234567890.123',
      yes: true,
      no: false,
      text: 'héllo, "world"',
      jsonb: { a: [1, { b: null }], c: 'd' },
      at: new Date('2024-02-29T12:34:56.789Z'),
      list: ['a', 'b c', 'with "quote"', null],
      nothing: null,
    });
  });

  it('passes the values the driver serialises (dates, arrays, objects, null) through as parameters', async () => {
    const at = new Date('2023-05-06T07:08:09.123Z');
    const [row] = await sql`
      SELECT ${at}::timestamptz AS at, ${['x', 'y z', null]}::text[] AS list, ${{ k: [1, 2] }}::jsonb AS doc,
             ${null}::text AS nothing, ${true}::bool AS flag`;
    expect(row).toEqual({ at, list: ['x', 'y z', null], doc: { k: [1, 2] }, nothing: null, flag: true });
  });

  it('honours arrayMode and fullResults', async () => {
    const arrays = neon(databaseUrl, { arrayMode: true });
    expect(await arrays`SELECT 1 AS a, 'b' AS b`).toEqual([[1, 'b']]);

    const full = await sql.query('SELECT 1::int4 AS a, $1::text AS b', ['x'], { fullResults: true });
    expect(full).toMatchObject({
      command: 'SELECT',
      rowCount: 1,
      rows: [{ a: 1, b: 'x' }],
      fields: [
        { name: 'a', dataTypeID: 23, tableID: 0, columnID: 0, dataTypeSize: 4, dataTypeModifier: -1, format: 'text' },
        { name: 'b', dataTypeID: 25, tableID: 0, columnID: 0, dataTypeSize: -1, dataTypeModifier: -1, format: 'text' },
      ],
    });

    const both = await sql.query('SELECT 1 AS a', [], { arrayMode: true, fullResults: true });
    expect(both).toMatchObject({ rowAsArray: true, rows: [[1]] });
  });

  it('reports the command and affected row count of writes', async () => {
    const [a, b] = [id(), id()];
    const insert = await sql.query('INSERT INTO item (id) VALUES ($1), ($2)', [a, b], { fullResults: true });
    expect(insert).toMatchObject({ command: 'INSERT', rowCount: 2, rows: [], fields: [] });
    const update = await sql.query('UPDATE item SET n = 1 WHERE id IN ($1, $2)', [a, b], { fullResults: true });
    expect(update).toMatchObject({ command: 'UPDATE', rowCount: 2 });
    const created = await sql.query(`CREATE TEMP TABLE t_${suffix} (x int)`, [], { fullResults: true });
    expect(created).toMatchObject({ command: 'CREATE', rowCount: null });
  });

  it('fills column metadata from the table for table columns', async () => {
    const full = await sql.query('SELECT id, n FROM item LIMIT 0', [], { fullResults: true });
    const { rows: [table] } = await direct.query<{ oid: number }>("SELECT 'item'::regclass::oid AS oid");
    expect(full.fields.map((field) => [field.name, field.tableID, field.columnID])).toEqual([
      ['id', table?.oid, 1],
      ['n', table?.oid, 2],
    ]);
  });

  it('does not reuse a connection that a statement left inside a transaction', async () => {
    const key = id();
    await sql`BEGIN`;
    await sql`INSERT INTO item (id) VALUES (${key})`;
    const { rowCount } = await direct.query('SELECT 1 FROM item WHERE id = $1', [key]);
    expect(rowCount).toBe(1);
  });

  it('rejects several statements in one query, as Neon does', async () => {
    const error = await rejection(sql.query('SELECT 1; SELECT 2'));
    expect(error.code).toBe('42601');
    expect(error.message).toMatch(/multiple commands/);
  });
});

describe('POST /sql errors', () => {
  it('rejects a syntax error with NeonDbError code 42601 and its position', async () => {
    const error = await rejection(sql.query('SELEC 1'));
    expect(error).toMatchObject({ name: 'NeonDbError', code: '42601', severity: 'ERROR', position: '1' });
    expect(error.message).toBe('syntax error at or near "SELEC"');
  });

  it('rejects a unique violation with NeonDbError code 23505 and its constraint and detail', async () => {
    const key = id();
    await sql`INSERT INTO item (id) VALUES (${key})`;
    const error = await rejection(sql`INSERT INTO item (id) VALUES (${key})`);
    expect(error).toMatchObject({ code: '23505', constraint: 'item_pkey', table: 'item', schema: 'public' });
    expect(error.detail).toBe(`Key (id)=(${key}) already exists.`);
  });

  it('answers 400 with a JSON error for a body that is not JSON', async () => {
    const { status, json } = await post('{not json');
    expect(status).toBe(400);
    expect(json).toMatchObject({ message: expect.stringMatching(/^could not parse the HTTP request body/), code: '' });
  });

  it('answers 400 with a JSON error for a body of the wrong shape', async () => {
    for (const body of ['[]', '{"sql":"SELECT 1"}', '{"query":1}', '{"query":"SELECT 1","params":"x"}', '{"queries":[1]}']) {
      const { status, json } = await post(body);
      expect(status, body).toBe(400);
      expect(json, body).toMatchObject({ message: expect.stringMatching(/^could not parse the HTTP request body/) });
    }
  });

  it('answers 400 when the Neon-Connection-String header is missing or not a Postgres URL', async () => {
    const missing = await fetch(local.fetchEndpoint, { method: 'POST', body: '{"query":"SELECT 1"}' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({ message: 'invalid header: neon-connection-string' });
    const wrong = await post('{"query":"SELECT 1"}', { 'Neon-Connection-String': 'mysql://root@127.0.0.1/db' });
    expect(wrong).toEqual({ status: 400, json: expect.objectContaining({ message: 'incorrect scheme' }) });
  });

  it('answers 400 "query is not supported" off the /sql route and a CORS preflight on it', async () => {
    const other = await fetch(`${local.url}/other`, { method: 'POST' });
    expect(other.status).toBe(400);
    expect(await other.json()).toBe('query is not supported');
    const preflight = await fetch(local.fetchEndpoint, { method: 'OPTIONS' });
    expect(preflight.status).toBe(200);
    expect(preflight.headers.get('access-control-allow-headers')).toMatch(/Neon-Connection-String/);
  });

  it('returns JSON values instead of raw text when Neon-Raw-Text-Output is not "true"', async () => {
    const body = JSON.stringify({
      query: "SELECT 1 AS i, 5::int8 AS big, 1.5::float8 AS f, 't'::bool AS b, '{\"x\":1}'::json AS j, ARRAY[[1,2],[3,NULL]] AS a",
    });
    const objects = await post(body);
    expect(objects.status).toBe(200);
    expect(objects.json).toMatchObject({
      rowAsArray: false,
      rows: [{ i: 1, big: '5', f: 1.5, b: true, j: { x: 1 }, a: [[1, 2], [3, null]] }],
    });
    const arrays = await post(body, { 'Neon-Array-Mode': 'true', 'Neon-Raw-Text-Output': 'true' });
    expect(arrays.json).toMatchObject({ rowAsArray: true, rows: [['1', '5', '1.5', 't', '{"x":1}', '{{1,2},{3,NULL}}']] });
  });

  it('accepts a 64 MB body', async () => {
    const big = 'x'.repeat(64_000_000);
    const [row] = await sql`SELECT length(${big}) AS n`;
    expect(row).toEqual({ n: 64_000_000 });
  });

  it('answers 413 to a body over the limit without reading it', async () => {
    const url = new URL(local.fetchEndpoint);
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname,
          method: 'POST',
          headers: { 'Neon-Connection-String': databaseUrl, 'Content-Length': String(200 * 1024 * 1024) },
        },
        (response) => {
          let text = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (text += chunk));
          response.on('end', () => {
            request.destroy();
            resolve({ status: response.statusCode ?? 0, body: text });
          });
        },
      );
      request.on('error', reject);
      request.flushHeaders();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ message: expect.stringMatching(/^request is too large/) });
  });
});

describe('sql.transaction', () => {
  it('commits all statements together and returns each result', async () => {
    const [a, b] = [id(), id()];
    const results = await sql.transaction([
      sql`INSERT INTO item (id, n) VALUES (${a}, 1)`,
      sql`INSERT INTO item (id, n) VALUES (${b}, 2)`,
      sql`SELECT id, n FROM item WHERE id IN (${a}, ${b}) ORDER BY n`,
    ]);
    expect(results).toEqual([[], [], [{ id: a, n: 1 }, { id: b, n: 2 }]]);
    const { rowCount } = await direct.query('SELECT 1 FROM item WHERE id = ANY($1)', [[a, b]]);
    expect(rowCount).toBe(2);
  });

  it('rolls back the whole batch when one statement fails', async () => {
    const [a, b] = [id(), id()];
    const error = await rejection(
      sql.transaction([
        sql`INSERT INTO item (id) VALUES (${a})`,
        sql`INSERT INTO item (id) VALUES (${b})`,
        sql`INSERT INTO item (id) VALUES (${a})`,
      ]),
    );
    expect(error.code).toBe('23505');
    const { rowCount } = await direct.query('SELECT 1 FROM item WHERE id = ANY($1)', [[a, b]]);
    expect(rowCount).toBe(0);
  });

  it('runs with the requested isolation level, read-only and deferrable modes', async () => {
    const [row] = (await sql.transaction(
      [sql`SELECT current_setting('transaction_isolation') AS level, current_setting('transaction_read_only') AS ro`],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    ))[0] ?? [];
    expect(row).toEqual({ level: 'serializable', ro: 'on' });

    const error = await rejection(sql.transaction([sql`INSERT INTO item (id) VALUES (${id()})`], { readOnly: true }));
    expect(error.code).toBe('25006');

    const [defaults] = (await sql.transaction([sql`SELECT current_setting('transaction_isolation') AS level`]))[0] ?? [];
    expect(defaults).toEqual({ level: 'read committed' });
  });

  it('answers 400 to an unknown isolation level', async () => {
    const { status, json } = await post('{"queries":[{"query":"SELECT 1"}]}', { 'Neon-Batch-Isolation-Level': 'Chaos' });
    expect(status).toBe(400);
    expect(json).toMatchObject({ message: 'invalid isolation level' });
  });
});

describe('stats', () => {
  it('counts every request and every statement executed, exactly', async () => {
    local.stats.reset();
    expect([local.stats.requests, local.stats.queries]).toEqual([0, 0]);

    await sql`SELECT 1`;
    expect([local.stats.requests, local.stats.queries]).toEqual([1, 1]);

    await sql.transaction([sql`SELECT 1`, sql`SELECT 2`, sql`SELECT 3`]);
    expect([local.stats.requests, local.stats.queries]).toEqual([2, 4]);

    // The failing statement ran; the one after it never did.
    const key = id();
    await rejection(
      sql.transaction([sql`INSERT INTO item (id) VALUES (${key})`, sql`SELECT 1/0`, sql`SELECT 3`]),
    );
    expect([local.stats.requests, local.stats.queries]).toEqual([3, 6]);

    // Rejected before reaching Postgres: a request, but no statement.
    await post('{not json');
    expect([local.stats.requests, local.stats.queries]).toEqual([4, 6]);

    local.stats.reset();
    expect([local.stats.requests, local.stats.queries]).toEqual([0, 0]);
  });
});

describe('when Postgres is unreachable', () => {
  it('rejects promptly with a clear server error, and keeps serving other databases', async () => {
    const unreachable = neon(`postgres://postgres@127.0.0.1:${await allocatePort()}/postgres`);
    const error = await rejection(unreachable`SELECT 1`);
    expect(error.message).toMatch(/^Server error \(HTTP status 500\): .*error connecting to server: .*ECONNREFUSED/);
    expect(await sql`SELECT 1 AS ok`).toEqual([{ ok: 1 }]);
  });

  it('reports a database Postgres refuses with its message', async () => {
    const missing = neon(`postgres://postgres@127.0.0.1:5432/${database}_missing`);
    const error = await rejection(missing`SELECT 1`);
    expect(error.message).toMatch(/HTTP status 500.*does not exist.*"code":"3D000"/);
  });
});

describe('when the HTTP client goes away', () => {
  it('cancels the statement it was running', async () => {
    const marker = `sleep_${suffix}`;
    const running = (): Promise<number> =>
      direct
        .query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
          [marker],
        )
        .then(({ rows }) => rows[0]?.n ?? -1);
    const abort = new AbortController();
    const sleeping = sql.query(`SELECT pg_sleep(60) AS ${marker}`, [], { fetchOptions: { signal: abort.signal } });
    const outcome = sleeping.then(
      () => 'resolved',
      () => 'rejected',
    );
    await expect.poll(running, { timeout: 10_000 }).toBe(1);
    abort.abort();
    expect(await outcome).toBe('rejected');
    await expect.poll(running, { timeout: 10_000 }).toBe(0);
  });
});

describe('close()', () => {
  it('makes the driver reject, and a restart on the same port serves again', async () => {
    const own = await startNeonLocal();
    const previous = neonConfig.fetchEndpoint;
    neonConfig.fetchEndpoint = own.fetchEndpoint;
    try {
      expect(await sql`SELECT 1 AS n`).toEqual([{ n: 1 }]);
      await own.close();
      const error = await rejection(sql`SELECT 2 AS n`);
      expect(error.message).toMatch(/^Error connecting to database/);

      const again = await startNeonLocal({ port: own.port });
      try {
        expect(again.fetchEndpoint).toBe(own.fetchEndpoint);
        expect(await sql`SELECT 3 AS n`).toEqual([{ n: 3 }]);
        expect(again.stats.queries).toBe(1);
      } finally {
        await again.close();
      }
    } finally {
      neonConfig.fetchEndpoint = previous;
      await own.close();
    }
  });
});
