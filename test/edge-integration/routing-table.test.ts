import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { algNoneToken } from '../../testkit/jwt.js';
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

describe('routing table', () => {
  describe.each(['USER', 'SERVICE', 'ENGINE'] as const)('principal JWT of type %s', (type) => {
    it('routes a canary platform to canary', async () => {
      const token = await signPrincipalJwt(h.jwtSecret, canaryPlatform, { type });
      expect(await originOf('/v1/flows', bearer(token))).toBe('canary');
    });
    it('routes a non-canary platform to primary', async () => {
      const token = await signPrincipalJwt(h.jwtSecret, primaryPlatform, { type });
      expect(await originOf('/v1/flows', bearer(token))).toBe('primary');
    });
  });

  describe('invalid principal JWTs resolve nothing and go to primary', () => {
    it.each([
      ['expired', () => signPrincipalJwt(h.jwtSecret, canaryPlatform, { expiresInSeconds: -10 })],
      ['wrong signature', () => signPrincipalJwt('another-secret-entirely-0123', canaryPlatform)],
      ['alg:none', async () => algNoneToken(canaryPlatform)],
      ['WORKER type', () => signPrincipalJwt(h.jwtSecret, canaryPlatform, { type: 'WORKER' })],
      ['garbage', async () => 'not.a.jwt'],
    ])('%s', async (_name, make) => {
      expect(await originOf('/v1/flows', bearer(await make()))).toBe('primary');
    });
  });

  describe('platform API key', () => {
    it('routes a canary platform key to canary', async () => {
      expect(await originOf('/v1/flows', bearer(await h.seedApiKey(canaryPlatform)))).toBe('canary');
    });
    it('routes a non-canary platform key to primary', async () => {
      expect(await originOf('/v1/flows', bearer(await h.seedApiKey(primaryPlatform)))).toBe('primary');
    });
    it('routes an unknown key to primary and caches the negative answer', async () => {
      const unknown = `sk-unknown-${crypto.randomUUID()}`;
      expect(await originOf('/v1/flows', bearer(unknown))).toBe('primary');
      h.neon.stats.reset();
      expect(await originOf('/v1/flows', bearer(unknown))).toBe('primary');
      expect(h.neon.stats.queries).toBe(0);
    });
    it('falls through to the webhook flow when the key is unknown', async () => {
      const flowId = await h.seedFlow(canaryPlatform);
      expect(await originOf(`/v1/webhooks/${flowId}`, bearer(`sk-unknown-${crypto.randomUUID()}`), 'POST')).toBe('canary');
    });
  });

  describe('webhook flowId', () => {
    it.each(['', '/sync', '/draft', '/test'])('routes /v1/webhooks/:flowId%s of a canary platform to canary', async (suffix) => {
      const flowId = await h.seedFlow(canaryPlatform);
      expect(await originOf(`/v1/webhooks/${flowId}${suffix}`, {}, 'POST')).toBe('canary');
    });
    it('routes a webhook of a non-canary platform to primary', async () => {
      const flowId = await h.seedFlow(primaryPlatform);
      expect(await originOf(`/v1/webhooks/${flowId}`, {}, 'POST')).toBe('primary');
    });
    it('routes an unknown flow to primary', async () => {
      expect(await originOf(`/v1/webhooks/flow_unknown_${Date.now()}`, {}, 'POST')).toBe('primary');
    });
  });

  describe('ap_canary cookie', () => {
    async function cookieFor(platformId: string): Promise<string> {
      const token = await signPrincipalJwt(h.jwtSecret, platformId);
      const res = await fetch(`${h.url}/v1/me`, { headers: bearer(token) });
      await res.arrayBuffer();
      const setCookie = res.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/^ap_canary=[^;]+;/);
      expect(new Set(setCookie?.split('; ').slice(1))).toEqual(new Set(['Max-Age=86400', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']));
      return setCookie.split(';')[0] ?? '';
    }

    it('is set when a principal is proxied to canary, and routes static and Socket.IO requests to canary', async () => {
      const cookie = await cookieFor(canaryPlatform);
      expect(await originOf('/', { cookie })).toBe('canary');
      expect(await originOf('/assets/app.js', { cookie })).toBe('canary');
      expect(await originOf('/socket.io/?EIO=4&transport=polling', { cookie })).toBe('canary');
    });

    it('is not set for a principal routed to primary', async () => {
      const token = await signPrincipalJwt(h.jwtSecret, primaryPlatform);
      const res = await fetch(`${h.url}/v1/me`, { headers: bearer(token) });
      await res.arrayBuffer();
      expect(res.headers.get('set-cookie')).toBeNull();
    });

    it('is cleared when the principal is authoritatively not canary', async () => {
      const cookie = await cookieFor(canaryPlatform);
      const token = await signPrincipalJwt(h.jwtSecret, primaryPlatform);
      const res = await fetch(`${h.url}/v1/me`, { headers: { ...bearer(token), cookie } });
      await res.arrayBuffer();
      expect(res.headers.get('x-origin')).toBe('primary');
      expect(res.headers.get('set-cookie')?.split('; ')).toEqual(expect.arrayContaining(['ap_canary=', 'Max-Age=0', 'Path=/']));
    });

    it('stops routing to canary as soon as its platform is flipped out, and is cleared', async () => {
      const platformId = await h.seedPlatform();
      expect((await h.admin({ platformId, canary: true })).status).toBe(200);
      const cookie = await cookieFor(platformId);
      expect((await h.admin({ platformId, canary: false })).status).toBe(200);
      const res = await fetch(`${h.url}/`, { headers: { cookie } });
      await res.arrayBuffer();
      expect(res.headers.get('x-origin')).toBe('primary');
      expect(res.headers.get('set-cookie')).toMatch(/^ap_canary=; /);
    });

    it('routes Socket.IO polling POSTs by the cookie too (handshake and upgrade must reach one origin)', async () => {
      const cookie = await cookieFor(canaryPlatform);
      expect(await originOf('/socket.io/?EIO=4&transport=polling&sid=x', { cookie }, 'POST')).toBe('canary');
    });

    it.each([
      ['GET', '/v1/flags'],
      ['POST', '/v1/authentication/sign-in'],
      ['POST', '/upload'],
    ])('does not route %s %s (API calls without a principal stay on primary)', async (method, path) => {
      const cookie = await cookieFor(canaryPlatform);
      expect(await originOf(path, { cookie }, method)).toBe('primary');
    });

    it.each([
      ['tampered', (c: string) => c.replace(/\.([^.]*)$/, '.AAAA$1')],
      ['forged platform', (c: string) => c.replace(/^ap_canary=[^.]+/, `ap_canary=${canaryPlatform}x`)],
      ['garbage', () => 'ap_canary=garbage'],
    ])('a %s cookie routes to primary', async (_name, mutate) => {
      const cookie = mutate(await cookieFor(canaryPlatform));
      expect(await originOf('/', { cookie })).toBe('primary');
    });
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

  it('routes a request without any principal to primary', async () => {
    expect(await originOf('/')).toBe('primary');
  });

  it('writes one JSON log line per request without tokens, keys or cookies', async () => {
    const token = await signPrincipalJwt(h.jwtSecret, canaryPlatform);
    const apiKey = await h.seedApiKey(canaryPlatform);
    const marker = `/v1/log-check-${crypto.randomUUID()}`;
    await originOf(`${marker}?token=${token}`, bearer(token));
    await originOf(marker, bearer(apiKey));
    const lines = h.logs.filter((l) => l.includes(marker));
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const entry = JSON.parse(line) as Record<string, unknown>;
      expect(entry).toMatchObject({ msg: 'request', method: 'GET', path: marker, status: 200, origin: 'canary', decision: 'canary' });
      expect(typeof entry.totalMs).toBe('number');
    }
    const all = h.logs.join('\n');
    for (const secret of [token, apiKey, h.apiKey, h.jwtSecret]) expect(all).not.toContain(secret);
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
