import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

let h: EdgeHarness;
let canaryPlatform: string;
let primaryPlatform: string;

beforeAll(async () => {
  h = await startEdgeHarness();
  [canaryPlatform, primaryPlatform] = await Promise.all([h.seedPlatform({ canary: true }), h.seedPlatform({ canary: false })]);
});
afterAll(async () => {
  await h?.close();
});

async function originOf(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<string | null> {
  const res = await fetch(`${h.url}${path}`, { method, headers, body: method === 'GET' ? null : '{}' });
  await res.arrayBuffer();
  return res.headers.get('x-origin');
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

// The routing rules themselves are a table of cases in test/edge/routing-table.test.ts (app.request over in-memory
// stores). Here the same edge runs in workerd over the real stores (local Upstash and Neon on real Redis and
// Postgres): each way of naming a platform once, and what only the real stores show (negative entries, flips,
// refresh-ahead under waitUntil).
describe('routing through the real stores', () => {
  it.each(['jwt', 'api-key', 'webhook'] as const)('routes a canary platform named by its %s to the canary, and another to the primary', async (source) => {
    const request = async (platformId: string): Promise<string | null> => {
      if (source === 'jwt') return originOf('/v1/flows', bearer(await signPrincipalJwt(h.jwtSecret, platformId)));
      if (source === 'api-key') return originOf('/v1/flows', bearer(await h.seedApiKey(platformId)));
      return originOf(`/v1/webhooks/${await h.seedFlow(platformId)}`, {}, 'POST');
    };
    expect(await request(canaryPlatform)).toBe('canary');
    expect(await request(primaryPlatform)).toBe('primary');
  });

  it('sets the ap_canary cookie on a canary principal, and the cookie then routes static and Socket.IO requests', async () => {
    const res = await fetch(`${h.url}/v1/me`, { headers: bearer(await signPrincipalJwt(h.jwtSecret, canaryPlatform)) });
    await res.arrayBuffer();
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^ap_canary=/);
    expect(await originOf('/', { cookie })).toBe('canary');
    expect(await originOf('/socket.io/?EIO=4&transport=polling', { cookie })).toBe('canary');
  });

  it('routes an unknown key to primary and caches the negative answer', async () => {
    const unknown = `sk-unknown-${crypto.randomUUID()}`;
    expect(await originOf('/v1/flows', bearer(unknown))).toBe('primary');
    h.neon.stats.reset();
    expect(await originOf('/v1/flows', bearer(unknown))).toBe('primary');
    expect(h.neon.stats.queries).toBe(0);
  });

  it('stops routing a cookie to the canary as soon as its platform is flipped out, and clears it', async () => {
    const platformId = await h.seedPlatform();
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    const first = await fetch(`${h.url}/v1/me`, { headers: bearer(await signPrincipalJwt(h.jwtSecret, platformId)) });
    await first.arrayBuffer();
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect((await h.admin({ platformId, canary: false })).status).toBe(200);
    const res = await fetch(`${h.url}/`, { headers: { cookie } });
    await res.arrayBuffer();
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(res.headers.get('set-cookie')).toMatch(/^ap_canary=; /);
  });

  it('proxies paths below the admin routes like any other request', async () => {
    const res = await fetch(`${h.url}/v1/admin/platforms/canary/some-platform/history`);
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(res.headers.get('x-origin')).toBe('primary');
  });

  it('reloads a cohort about to expire in the background (waitUntil) without making the request wait', async () => {
    const platformId = await h.seedPlatform();
    expect(await originOf('/v1/flows', bearer(await signPrincipalJwt(h.jwtSecret, platformId)))).toBe('primary');
    await h.pool.query('UPDATE platform_plan SET canary = true, canary_explicit = true WHERE platform_id = $1', [platformId]); // not via admin
    const redis = new Redis(h.redisDb.url);
    try {
      await redis.expire('canary-platform-ids', 5); // inside the refresh-ahead window
      const token = await signPrincipalJwt(h.jwtSecret, platformId);
      expect(await originOf('/v1/flows', bearer(token))).toBe('primary'); // answered from the cache...
      const line = h.logs.filter((l) => l.includes('"msg":"request"')).at(-1) ?? '{}';
      expect(JSON.parse(line)).toMatchObject({ cache: 'hit', cacheRefresh: true });
      // ...while the reload runs after the response: wait until it has installed a fresh cohort.
      const deadline = Date.now() + 10_000;
      while ((await redis.ttl('canary-platform-ids')) <= 5 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10)); // polling interval, not a synchronisation sleep
      }
      expect(await redis.ttl('canary-platform-ids')).toBeGreaterThan(50);
      expect(await originOf('/v1/flows', bearer(token))).toBe('canary');
    } finally {
      await redis.quit();
    }
  });

});

describe('canary routing off (AP_CANARY_APP_URL empty)', () => {
  let off: EdgeHarness;
  beforeAll(async () => {
    off = await startEdgeHarness({ canaryRouting: false });
  });
  afterAll(async () => {
    await off?.close();
  });

  it('sends a canary platform to primary without asking the stores', async () => {
    const platformId = await off.seedPlatform({ canary: true });
    const token = await signPrincipalJwt(off.jwtSecret, platformId);
    off.upstash.stats.reset();
    const res = await fetch(`${off.url}/v1/flows`, { headers: bearer(token) });
    await res.arrayBuffer();
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(off.upstash.stats.requests).toBe(0);
  });
});
