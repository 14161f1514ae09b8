import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdgeHarness();
});
afterAll(async () => {
  await h?.close();
});

async function routeOf(platformId: string): Promise<string | null> {
  const token = await signPrincipalJwt(h.jwtSecret, platformId);
  const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return res.headers.get('x-origin');
}

async function errorCode(res: Response): Promise<string> {
  return ((await res.json()) as { error: { code: string } }).error.code;
}

async function dbCanary(platformId: string): Promise<boolean | undefined> {
  const { rows } = await h.pool.query<{ canary: boolean }>('SELECT canary FROM platform_plan WHERE platform_id = $1', [platformId]);
  return rows[0]?.canary;
}

describe('POST /v1/admin/platforms/canary', () => {
  it('flips a platform in and out; the very next request follows', async () => {
    const platformId = await h.seedPlatform();
    expect(await routeOf(platformId)).toBe('primary');

    const on = await h.admin({ platformId, canary: true });
    expect(on.status).toBe(200);
    expect(await on.json()).toEqual({ platformId, canary: true });
    expect(await routeOf(platformId)).toBe('canary');

    const off = await h.admin({ platformId, canary: false });
    expect(await off.json()).toEqual({ platformId, canary: false });
    expect(await routeOf(platformId)).toBe('primary');
  });

  it('is idempotent', async () => {
    const platformId = await h.seedPlatform();
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    expect(await routeOf(platformId)).toBe('canary');
  });

  it('returns 404 platform_not_found for an unknown platform', async () => {
    const res = await h.admin({ platformId: `missing_${Date.now()}`, canary: true });
    expect(res.status).toBe(404);
    expect(await errorCode(res)).toBe('platform_not_found');
  });

  it.each([
    ['missing api-key', { apiKey: '' }, { platformId: 'p', canary: true }, 401, 'unauthorized'],
    ['wrong api-key', { apiKey: 'wrong-key' }, { platformId: 'p', canary: true }, 401, 'unauthorized'],
    ['extra field', {}, { platformId: 'p', canary: true, note: 'x' }, 400, 'invalid_body'],
    ['wrong type', {}, { platformId: 'p', canary: 1 }, 400, 'invalid_body'],
    ['oversized body', {}, { platformId: 'p'.repeat(8_000), canary: true }, 413, 'payload_too_large'],
  ])('rejects %s through workerd', async (_name, init, body, status, code) => {
    const res = await h.admin(body, init);
    expect(res.status).toBe(status);
    expect(await errorCode(res)).toBe(code);
  });

  it('rejects a non-JSON body with 400 invalid_json', async () => {
    const res = await fetch(`${h.url}/v1/admin/platforms/canary`, { method: 'POST', headers: { 'api-key': h.apiKey }, body: '{nope' });
    expect(res.status).toBe(400);
    expect(await errorCode(res)).toBe('invalid_json');
  });

  it('returns 503 store_unavailable and changes nothing when Postgres is down', async () => {
    const platformId = await h.seedPlatform();
    expect(await routeOf(platformId)).toBe('primary'); // warm cache
    await h.stopNeon();
    try {
      const res = await h.admin({ platformId, canary: true });
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('store_unavailable');
      expect(await routeOf(platformId)).toBe('primary');
      // The cause is logged (the client is only told the store is unavailable).
      expect(h.logs.some((l) => l.includes('"msg":"store error"') && l.includes('"stage":"operator-set-choice"') && l.includes('StoreError'))).toBe(true);
    } finally {
      await h.startNeon();
    }
    expect(await dbCanary(platformId)).toBe(false);
    expect(await routeOf(platformId)).toBe('primary');
  });

  it('answers a bug (here: a query error on a broken schema) with 500 internal_error, not as an outage', async () => {
    const platformId = await h.seedPlatform();
    await h.pool.query('ALTER TABLE platform_plan RENAME TO platform_plan_moved');
    try {
      const res = await h.admin({ platformId, canary: true });
      expect(res.status).toBe(500);
      expect(await errorCode(res)).toBe('internal_error');
      expect(h.logs.some((l) => l.includes('"msg":"unhandled error"') && l.includes('platform_plan'))).toBe(true);
    } finally {
      await h.pool.query('ALTER TABLE platform_plan_moved RENAME TO platform_plan');
    }
  });

  it('returns 503 cache_invalidation_failed when Redis is down after the database changed, and a retry completes it', async () => {
    const platformId = await h.seedPlatform();
    expect(await routeOf(platformId)).toBe('primary'); // the cached cohort now says "not canary"
    await h.stopUpstash();
    try {
      const res = await h.admin({ platformId, canary: true });
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('cache_invalidation_failed');
      expect(await dbCanary(platformId)).toBe(true);
      expect(await routeOf(platformId)).toBe('canary'); // with Redis down the edge reads Postgres
    } finally {
      await h.startUpstash();
    }
    const retry = await h.admin({ platformId, canary: true });
    expect(retry.status).toBe(200);
    expect(await routeOf(platformId)).toBe('canary');
  });
});

describe('GET /v1/admin/platforms/canary', () => {
  it('lists the canary platform ids sorted', async () => {
    const ids = [await h.seedPlatform(), await h.seedPlatform(), await h.seedPlatform()];
    for (const platformId of ids) expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    const res = await h.admin(null, { method: 'GET' });
    expect(res.status).toBe(200);
    const { platformIds } = (await res.json()) as { platformIds: string[] };
    expect(platformIds).toEqual([...platformIds].sort());
    expect(platformIds).toEqual(expect.arrayContaining(ids));
  });

  it('returns 401 without the api-key', async () => {
    const res = await fetch(`${h.url}/v1/admin/platforms/canary`);
    expect(res.status).toBe(401);
  });

  it('returns 503 when Postgres is down', async () => {
    await h.stopNeon();
    try {
      const res = await h.admin(null, { method: 'GET' });
      expect(res.status).toBe(503);
      expect(await errorCode(res)).toBe('store_unavailable');
    } finally {
      await h.startNeon();
    }
  });
});
