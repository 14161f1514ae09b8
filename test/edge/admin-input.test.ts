import { describe, expect, it } from 'vitest';
import { createApp } from '../../edge/app.js';

const API_KEY = 'unit-admin-api-key-0123456789abcdefghij';
// Stores are unreachable on purpose: every case here must be answered before they are touched.
const env: Env = {
  AP_PRIMARY_APP_URL: 'http://127.0.0.1:9',
  AP_CANARY_APP_URL: 'http://127.0.0.1:9',
  NEON_HTTP_ENDPOINT: 'http://127.0.0.1:9/sql',
  AP_API_KEY: API_KEY,
  AP_JWT_SECRET: 'unit-jwt-secret-0123456789',
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
  UPSTASH_REDIS_REST_TOKEN: 'token',
  DATABASE_URL: 'postgres://postgres@127.0.0.1:9/none',
  ADMIN_HOSTNAME: '',
  LOCAL_DEVELOPMENT: '',
  // Never reached here: every case is answered before a store or the limiter is asked.
  UNKNOWN_ID_LIMITER: { limit: () => Promise.reject(new Error('limiter must not be asked')) },
  // Wrong keys spend budget; this one always admits (the budget itself is in operator-hardening.test.ts).
  ADMIN_AUTH_LIMITER: { limit: () => Promise.resolve({ success: true }) },
};
const app = createApp({ log: { sink: () => undefined } });
const PATH = '/v1/admin/platforms/canary';

function post(body: BodyInit | null, headers: Record<string, string> = {}) {
  return app.request(PATH, { method: 'POST', body, headers: { 'api-key': API_KEY, 'content-type': 'application/json', ...headers } }, env);
}

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toContain('application/json');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(JSON.stringify(body)).not.toContain(API_KEY);
}

describe('POST /v1/admin/platforms/canary (input)', () => {
  it('returns 401 when api-key is missing', async () => {
    const res = await app.request(PATH, { method: 'POST', body: '{}' }, env);
    await expectError(res, 401, 'unauthorized');
  });

  it('returns 401 when api-key is wrong', async () => {
    await expectError(await post('{"platformId":"p","canary":true}', { 'api-key': `${API_KEY}x` }), 401, 'unauthorized');
  });

  it('returns 401 for a key that is a prefix of the real one', async () => {
    await expectError(await post('{"platformId":"p","canary":true}', { 'api-key': API_KEY.slice(0, 10) }), 401, 'unauthorized');
  });

  it('returns 400 invalid_json for a non-JSON body', async () => {
    await expectError(await post('platformId=p&canary=true'), 400, 'invalid_json');
  });

  it('returns 400 invalid_json for an empty body', async () => {
    await expectError(await post(null), 400, 'invalid_json');
  });

  it.each([
    ['missing platformId', { canary: true }],
    ['missing canary', { platformId: 'p' }],
    ['extra field', { platformId: 'p', canary: true, force: true }],
    ['canary as string', { platformId: 'p', canary: 'true' }],
    ['platformId as number', { platformId: 42, canary: true }],
    ['empty platformId', { platformId: '', canary: false }],
    ['array body', [{ platformId: 'p', canary: true }]],
    ['null body', null],
  ])('returns 400 invalid_body for %s', async (_name, body) => {
    await expectError(await post(JSON.stringify(body)), 400, 'invalid_body');
  });

  it('returns 413 for an oversized body', async () => {
    const body = JSON.stringify({ platformId: 'p'.repeat(10_000), canary: true });
    await expectError(await post(body), 413, 'payload_too_large');
  });

  it('returns 405 for other methods', async () => {
    const res = await app.request(PATH, { method: 'DELETE', headers: { 'api-key': API_KEY } }, env);
    await expectError(res, 405, 'method_not_allowed');
  });
});

describe('release plan routes (input)', () => {
  const plans = (path: string, method: string, body?: unknown) =>
    app.request(`/v1/admin/canary/plans${path}`, { method, body: body === undefined ? null : JSON.stringify(body), headers: { 'api-key': API_KEY, 'content-type': 'application/json' } }, env);

  it.each([
    ['no step', { steps: [] }, 'steps: must have at least one step'],
    ['a step that goes down', { steps: [{ percent: 20, bakeSeconds: 0 }, { percent: 10, bakeSeconds: 0 }] }, 'steps.1.percent: must not be lower than the step before (20)'],
    ['a step without bakeSeconds', { steps: [{ trafficPercent: 10 }] }, 'steps.0.bakeSeconds: is required'],
    ['a negative bake', { steps: [{ percent: 10, bakeSeconds: -5 }] }, 'steps.0.bakeSeconds: must be a whole number of seconds from 0 to 604800 (7 days)'],
    ['a bake above 7 days', { steps: [{ percent: 10, bakeSeconds: 604_801 }] }, 'steps.0.bakeSeconds: must be a whole number'],
    ['a percent out of range', { steps: [{ percent: 100.5, bakeSeconds: 0 }] }, 'steps.0.percent: must be a percentage'],
    ['an unknown step field', { steps: [{ percent: 10, bakeSeconds: 0, weight: 3 }] }, 'steps.0: unknown field weight'],
    ['an unknown field', { steps: [{ percent: 10, bakeSeconds: 0 }], owner: 'x' }, 'unknown field owner'],
    ['two kinds in one step', { steps: [{ percent: 10, approval: true }] }, 'steps.0: must be {"percent", "bakeSeconds"}'],
  ])('returns 400 naming the field for %s, before any store is asked', async (_name, body, message) => {
    const res = await plans('', 'POST', body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'invalid_body', message: expect.stringContaining(message) });
  });

  it('returns 404 for an unknown plan action and 405 for other methods', async () => {
    await expectError(await plans('/current/skip', 'POST', {}), 404, 'not_found');
    await expectError(await plans('', 'GET'), 405, 'method_not_allowed');
    await expectError(await plans('/current', 'DELETE'), 405, 'method_not_allowed');
    await expectError(await plans('/current/abort', 'GET'), 405, 'method_not_allowed');
  });
});

describe('GET /v1/admin/platforms/canary (input)', () => {
  it('returns 401 when api-key is wrong', async () => {
    await expectError(await app.request(PATH, { headers: { 'api-key': 'nope' } }, env), 401, 'unauthorized');
  });
});

describe('edge configuration', () => {
  it('answers 500 edge_misconfigured naming the binding, never its value', async () => {
    const bad = { ...env, AP_PRIMARY_APP_URL: 'not a url', AP_JWT_SECRET: '' } as Env;
    const res = await createApp({ log: { sink: () => undefined } }).request('/anything', {}, bad);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('edge_misconfigured');
    expect(body.error.message).toContain('AP_PRIMARY_APP_URL');
    expect(body.error.message).toContain('AP_JWT_SECRET');
    expect(body.error.message).not.toContain(API_KEY);
  });

  it.each([
    ['an unencoded # and @ in the password', 'postgres://app:p#ss@w0rd@db.example.com/main'],
    ['another scheme', 'mysql://app:p4ssw0rd-secret@db.example.com/main'],
    ['no host', 'postgres:///main?password=p4ssw0rd-secret'],
  ])('refuses a DATABASE_URL with %s, naming the fix and never the password', async (_what, databaseUrl) => {
    const errors: string[] = [];
    const original = console.error;
    console.error = (line: string) => errors.push(line);
    try {
      const res = await createApp({ log: { sink: () => undefined } }).request('/anything', {}, { ...env, DATABASE_URL: databaseUrl });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toContain('DATABASE_URL: must be a postgres:// URL (percent-encode characters such as # @ / : in the user name and password)');
      for (const out of [text, ...errors]) {
        expect(out).not.toContain('p#ss');
        expect(out).not.toContain('w0rd');
        expect(out).not.toContain('p4ssw0rd-secret');
      }
    } finally {
      console.error = original;
    }
  });
});
