import { sign } from 'hono/jwt';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import type { SeededPlatform } from '../../testkit/origin-fixtures.js';
import { startOriginApp, startOriginWorker, stopAll } from '../../dev/origin/origin-processes.js';
import type { ManagedProcess, StartedApp } from '../../dev/origin/origin-processes.js';
import { connectRunEvents } from '../../testkit/origin-socket.js';
import type { RunEventsClient } from '../../testkit/origin-socket.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const VERSION = '0.1.0';
const MAX_BODY = 4096;
const SYNC_TIMEOUT_MS = 3_000;

const GREETING_FLOW = {
  steps: [
    { type: 'template', path: 'greeting', template: 'hello {{name}}' },
    { type: 'uppercase', path: 'greeting' },
    { type: 'set', path: 'meta.source', value: 'webhook' },
  ],
};

describe('origin app over HTTP and Socket.IO', () => {
  const secrets = randomSecrets();
  let redis: ReservedRedisDb;
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: StartedApp;
  let worker: ManagedProcess;
  let greeting: SeededPlatform;
  let echo: SeededPlatform;
  let failing: SeededPlatform;
  let slow: SeededPlatform;
  let polluter: SeededPlatform;
  let bystander: SeededPlatform;
  let events: RunEventsClient;

  beforeAll(async () => {
    redis = await reserveRedisDb();
    db = await createTestDatabase();
    pool = db.pool({ max: 2 });
    [greeting, echo, failing, slow, polluter, bystander] = (await seedPlatforms(pool, [
      { canary: false, definition: GREETING_FLOW },
      { canary: false },
      { canary: false, definition: { steps: [{ type: 'fail', message: 'boom' }] } },
      { canary: false, definition: { steps: [{ type: 'delay', ms: SYNC_TIMEOUT_MS * 2 }] } },
      // Stored directly, as a definition saved before validation existed would be.
      { canary: false, definition: { steps: [{ type: 'set', path: '__proto__.polluted', value: 'yes' }] } },
      { canary: false, definition: { steps: [{ type: 'template', path: 'seen', template: '[{{polluted}}]' }] } },
    ])) as [SeededPlatform, SeededPlatform, SeededPlatform, SeededPlatform, SeededPlatform, SeededPlatform];
    const topology = { redisUrl: redis.url, postgresUrl: db.url, ...secrets };
    app = await startOriginApp(topology, {
      name: 'app',
      version: VERSION,
      env: { AP_WEBHOOK_MAX_BODY_BYTES: String(MAX_BODY), AP_WEBHOOK_SYNC_TIMEOUT_MS: String(SYNC_TIMEOUT_MS) },
    });
    worker = await startOriginWorker(topology, { name: 'worker', version: VERSION, frontendUrl: app.url, canary: false });
    events = await connectRunEvents(app.url, await signPrincipalJwt(secrets.jwtSecret, greeting.platformId));
  });

  afterAll(async () => {
    await events?.close();
    await stopAll([worker, app?.process]);
    await db?.close();
    await redis?.close();
  });

  const post = (path: string, body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(`${app.url}${path}`, { method: 'POST', body, headers });

  describe('GET /v1/health', () => {
    it('answers ok with the version, and the x-ap-version header', async () => {
      const res = await fetch(`${app.url}/v1/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ap-version')).toBe(VERSION);
      expect(await res.json()).toEqual({ status: 'ok', version: VERSION });
    });
  });

  describe('POST /v1/webhooks/:flowId', () => {
    it('returns 404 JSON for an unknown flow', async () => {
      const res = await post('/v1/webhooks/flow_does_not_exist', '{}');
      expect(res.status).toBe(404);
      expect(res.headers.get('x-ap-version')).toBe(VERSION);
      expect(await res.json()).toEqual({ error: { code: 'flow_not_found', message: expect.any(String) } });
    });

    it('returns 413 JSON for a body over the limit', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}`, JSON.stringify({ blob: 'x'.repeat(MAX_BODY * 2) }));
      expect(res.status).toBe(413);
      expect(res.headers.get('x-ap-version')).toBe(VERSION);
      expect(await res.json()).toMatchObject({ error: { code: 'payload_too_large' } });
    });

    it('returns 400 JSON for a malformed JSON body', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}`, '{not json');
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: 'invalid_json' } });
    });

    it('returns a runId at once; the run finishes on the primary fleet and is announced to the platform room', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}`, JSON.stringify({ name: 'ada' }));
      expect(res.status).toBe(200);
      const { runId } = (await res.json()) as { runId: string };
      const event = await events.waitFor(runId);
      // eventId: its id in the platform's replay stream (a reconnecting client names the last one it saw).
      expect(event).toEqual({ runId, flowId: greeting.flowId, platformId: greeting.platformId, status: 'SUCCEEDED', workerVersion: VERSION, eventId: expect.stringMatching(/^\d+-\d+$/) });

      const run = await fetch(`${app.url}/v1/flow-runs/${runId}`, {
        headers: { authorization: `Bearer ${await signPrincipalJwt(secrets.jwtSecret, greeting.platformId)}` },
      });
      expect(run.status).toBe(200);
      expect(await run.json()).toMatchObject({
        id: runId,
        flowId: greeting.flowId,
        platformId: greeting.platformId,
        status: 'SUCCEEDED',
        queue: 'workerJobs',
        workerVersion: VERSION,
        result: { name: 'ada', greeting: 'HELLO ADA', meta: { source: 'webhook' } },
      });
    });
  });

  describe('POST /v1/webhooks/:flowId/sync', () => {
    it('executes the flow definition against the payload and returns the finished run', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}/sync`, JSON.stringify({ name: 'grace' }));
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'SUCCEEDED',
        queue: 'workerJobs',
        workerVersion: VERSION,
        result: { greeting: 'HELLO GRACE' },
      });
    });

    it('echoes the payload of a flow without a definition', async () => {
      const res = await post(`/v1/webhooks/${echo.flowId}/sync`, JSON.stringify({ a: [1, 2], b: { c: null } }));
      expect(await res.json()).toMatchObject({ status: 'SUCCEEDED', result: { a: [1, 2], b: { c: null } } });
    });

    it('returns a FAILED run with the step error for a fail step', async () => {
      const res = await post(`/v1/webhooks/${failing.flowId}/sync`, '{}');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'FAILED', error: expect.stringContaining('boom') });
    });

    it('returns 504 JSON when the run does not finish within the timeout', async () => {
      const res = await post(`/v1/webhooks/${slow.flowId}/sync`, '{}');
      expect(res.status).toBe(504);
      expect(res.headers.get('x-ap-version')).toBe(VERSION);
      expect(await res.json()).toMatchObject({ error: { code: 'run_timeout' } });
    });
  });

  describe('PUT /v1/flows/:flowId', () => {
    const put = async (flowId: string, body: unknown, platformId: string | null): Promise<Response> =>
      fetch(`${app.url}/v1/flows/${flowId}`, {
        method: 'PUT',
        headers: {
          'content-type': 'application/json',
          ...(platformId === null ? {} : { authorization: `Bearer ${await signPrincipalJwt(secrets.jwtSecret, platformId)}` }),
        },
        body: JSON.stringify(body),
      });
    const storedDefinition = async (flowId: string): Promise<unknown> =>
      (await pool.query<{ definition: unknown }>('SELECT definition FROM flow WHERE id = $1', [flowId])).rows[0]?.definition;

    it.each(['__proto__.polluted', 'constructor.prototype.polluted', 'x.prototype'])(
      'refuses a step writing to %j with 400 invalid_definition and stores nothing',
      async (path) => {
        const before = await storedDefinition(echo.flowId);
        const res = await put(echo.flowId, { definition: { steps: [{ type: 'set', path, value: 'yes' }] } }, echo.platformId);
        expect(res.status).toBe(400);
        expect(await res.json()).toEqual({
          error: { code: 'invalid_definition', message: expect.stringMatching(/^Invalid flow definition: definition\.steps\.0\.path: path .* is not allowed$/) },
        });
        expect(await storedDefinition(echo.flowId)).toEqual(before);
      },
    );

    it('stores a valid definition of the principal\'s own flow', async () => {
      const [own] = (await seedPlatforms(pool, [{ canary: false }])) as [SeededPlatform];
      const definition = { steps: [{ type: 'set', path: 'a.b', value: 1 }] };
      const res = await put(own.flowId, { definition }, own.platformId);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ flowId: own.flowId, definition });
      expect(await storedDefinition(own.flowId)).toEqual(definition);
    });

    it('answers 404 for another platform\'s flow and 401 without a principal, changing nothing', async () => {
      const definition = { steps: [] };
      const foreign = await put(greeting.flowId, { definition }, echo.platformId);
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ error: { code: 'flow_not_found' } });
      expect((await put(greeting.flowId, { definition }, null)).status).toBe(401);
      expect(await storedDefinition(greeting.flowId)).toEqual(GREETING_FLOW);
    });
  });

  describe('tenant isolation on a shared worker', () => {
    it('fails a stored definition that writes through __proto__, and another platform\'s later run cannot see the write', async () => {
      const polluted = await post(`/v1/webhooks/${polluter.flowId}/sync`, '{}');
      expect(await polluted.json()).toMatchObject({
        platformId: polluter.platformId,
        status: 'FAILED',
        error: 'invalid flow definition: steps.0.path: path "__proto__.polluted" segment "__proto__" is not allowed',
      });
      const other = await post(`/v1/webhooks/${bystander.flowId}/sync`, '{}');
      expect(await other.json()).toMatchObject({ platformId: bystander.platformId, status: 'SUCCEEDED', result: { seen: '[]' } });
    });
  });

  describe('GET /v1/flow-runs/:id', () => {
    it('returns 404 to a principal of another platform, and 401 without one', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}/sync`, JSON.stringify({ name: 'x' }));
      const { id } = (await res.json()) as { id: string };
      const foreign = await fetch(`${app.url}/v1/flow-runs/${id}`, {
        headers: { authorization: `Bearer ${await signPrincipalJwt(secrets.jwtSecret, echo.platformId)}` },
      });
      expect(foreign.status).toBe(404);
      expect(await foreign.json()).toMatchObject({ error: { code: 'run_not_found' } });
      const anonymous = await fetch(`${app.url}/v1/flow-runs/${id}`);
      expect(anonymous.status).toBe(401);
      const forged = await fetch(`${app.url}/v1/flow-runs/${id}`, {
        headers: { authorization: `Bearer ${await signPrincipalJwt('not-the-secret', greeting.platformId)}` },
      });
      expect(forged.status).toBe(401);
    });

    it('returns 401 for a principal token without exp, as the edge refuses it too (one verifier)', async () => {
      const res = await post(`/v1/webhooks/${greeting.flowId}/sync`, JSON.stringify({ name: 'x' }));
      const { id } = (await res.json()) as { id: string };
      const noExp = await sign({ id: 'u', type: 'USER', platform: { id: greeting.platformId } }, secrets.jwtSecret, 'HS256');
      const answer = await fetch(`${app.url}/v1/flow-runs/${id}`, { headers: { authorization: `Bearer ${noExp}` } });
      expect(answer.status).toBe(401);
    });
  });

  describe('Socket.IO /socket.io', () => {
    it('refuses a connection with a bad token', async () => {
      const forged = await signPrincipalJwt('not-the-secret', greeting.platformId);
      await expect(connectRunEvents(app.url, forged)).rejects.toThrow(/unauthorized/);
      await expect(connectRunEvents(app.url, 'garbage')).rejects.toThrow(/unauthorized/);
    });

    it('disconnects a client when its principal token expires', async () => {
      const now = Math.floor(Date.now() / 1000);
      const shortLived = await sign({ id: 'u', type: 'USER', platform: { id: greeting.platformId }, exp: now + 2 }, secrets.jwtSecret, 'HS256');
      const client = await connectRunEvents(app.url, shortLived);
      try {
        const reason = await new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
        expect(reason).toBe('io server disconnect');
        expect(Date.now() / 1000).toBeGreaterThanOrEqual(now + 1);
      } finally {
        await client.close();
      }
    });

    it('does not deliver another platform\'s runs', async () => {
      const res = await post(`/v1/webhooks/${echo.flowId}/sync`, '{}');
      const { id } = (await res.json()) as { id: string };
      const own = await post(`/v1/webhooks/${greeting.flowId}/sync`, '{}');
      const { id: ownId } = (await own.json()) as { id: string };
      await events.waitFor(ownId);
      expect(events.events.some((e) => e.runId === id)).toBe(false);
    });
  });

  describe('unknown routes', () => {
    it('answer 404 in the JSON envelope with x-ap-version', async () => {
      const res = await fetch(`${app.url}/v1/nothing-here`);
      expect(res.status).toBe(404);
      expect(res.headers.get('x-ap-version')).toBe(VERSION);
      expect(await res.json()).toEqual({ error: { code: 'not_found', message: 'Not found.' } });
    });
  });
});
