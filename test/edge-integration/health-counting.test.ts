import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { roundTrips } from '../../testkit/round-trips.js';

// The edge's half of the health guard, through the real Worker, Upstash endpoint and Redis: per-origin counts of
// responses and errors, batched per isolate and flushed after responses, never on a request's critical path.

interface Counts {
  requests: number;
  errors: number;
  errorRate: number | null;
}

interface HealthView {
  windowSeconds: number;
  origins: { primary: Counts; canary: Counts };
  minutes: { at: string; primary: { requests: number; errors: number }; canary: { requests: number; errors: number } }[];
  guard: { settings: unknown; lastVerdict: unknown };
}

async function healthOf(h: EdgeHarness): Promise<HealthView> {
  const res = await h.call('GET', '/v1/admin/canary/health');
  expect(res.status).toBe(200);
  return (await res.json()) as HealthView;
}

/** Polls the health route until `check` accepts it (the edge flushes within about a second of a request). */
async function healthWhen(h: EdgeHarness, check: (view: HealthView) => boolean, timeoutMs = 15_000): Promise<HealthView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await healthOf(h);
    if (check(view)) return view;
    if (Date.now() > deadline) throw new Error(`health counts never matched; last: ${JSON.stringify(view.origins)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What the next requests must add to the window's totals. */
function plus(base: HealthView['origins'], add: { primary: [number, number]; canary: [number, number] }): (view: HealthView) => boolean {
  return (view) =>
    view.origins.primary.requests === base.primary.requests + add.primary[0] &&
    view.origins.primary.errors === base.primary.errors + add.primary[1] &&
    view.origins.canary.requests === base.canary.requests + add.canary[0] &&
    view.origins.canary.errors === base.canary.errors + add.canary[1];
}

describe('health counting at the edge', () => {
  let h: EdgeHarness;
  let canaryAuth: Record<string, string>;
  let primaryAuth: Record<string, string>;

  beforeAll(async () => {
    h = await startEdgeHarness();
    const [canaryId, primaryId] = await Promise.all([h.seedPlatform(), h.seedPlatform()]);
    expect((await h.call('POST', '/v1/admin/platforms/canary', { platformId: canaryId, canary: true })).status).toBe(200);
    canaryAuth = { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, canaryId)}` };
    primaryAuth = { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, primaryId)}` };
  });
  afterAll(async () => {
    await h?.close();
  });

  const get = async (path: string, headers: Record<string, string>, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(`${h.url}${path}`, { ...init, headers });
    await res.arrayBuffer();
    return res;
  };

  it('counts responses and 5xx per origin, and GET /v1/admin/canary/health shows them', async () => {
    const before = (await healthOf(h)).origins;
    for (let i = 0; i < 5; i++) expect((await get('/v1/flows', canaryAuth)).headers.get('x-origin')).toBe('canary');
    for (let i = 0; i < 3; i++) expect((await get('/__status/503', canaryAuth)).status).toBe(503);
    for (let i = 0; i < 4; i++) expect((await get('/v1/flows', primaryAuth)).headers.get('x-origin')).toBe('primary');
    for (let i = 0; i < 2; i++) expect((await get('/__status/500', primaryAuth)).status).toBe(500);
    // 4xx are the client's, not the origin's: counted as answers, not errors.
    expect((await get('/__status/404', canaryAuth)).status).toBe(404);
    const view = await healthWhen(h, plus(before, { primary: [6, 2], canary: [9, 3] }));
    expect(view.windowSeconds).toBe(300);
    expect(view.guard).toEqual({ settings: null, lastVerdict: null });
    const current = view.minutes.at(-1);
    expect(current?.canary.requests).toBeGreaterThan(0);
    expect(view.minutes.reduce((n, m) => n + m.canary.requests, 0)).toBe(view.origins.canary.requests);
    expect(view.origins.canary.errorRate).toBeCloseTo(view.origins.canary.errors / view.origins.canary.requests, 10);
  });

  it('counts a canary that never answered as a canary error, whoever served the request in the end', async () => {
    const before = (await healthOf(h)).origins;
    await h.stopCanary();
    try {
      // A GET falls back to the primary: the canary failed it, the primary answered it.
      const fellBack = await get('/v1/flows', canaryAuth);
      expect(fellBack.headers.get('x-origin')).toBe('primary');
      // A POST cannot be replayed: 502 canary_unavailable, a canary error.
      const refused = await get('/v1/flows', canaryAuth, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(502);
      await healthWhen(h, plus(before, { primary: [1, 0], canary: [2, 2] }));
    } finally {
      await h.startCanary();
    }
  });

  it('adds no Redis round trip to the critical path: one lookup per request, flushes at most once a second', async () => {
    const before = (await healthOf(h)).origins;
    h.upstash.stats.reset();
    const started = performance.now();
    const requests = 200;
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < requests) {
          next++;
          await get('/v1/flows', next % 2 === 0 ? canaryAuth : primaryAuth);
        }
      }),
    );
    const elapsedSeconds = (performance.now() - started) / 1000;
    await healthWhen(h, plus(before, { primary: [requests / 2, 0], canary: [requests / 2, 0] }));
    const trips = await roundTrips(h.upstash.stats);
    // The health reads above are admin calls: only the lookups are on the request path.
    expect(trips.lookups).toBe(requests);
    expect(trips.healthFlushes).toBeGreaterThanOrEqual(1);
    expect(trips.healthFlushes).toBeLessThanOrEqual(Math.ceil(elapsedSeconds) + 1);
    console.log(
      `health counting: ${requests} requests in ${elapsedSeconds.toFixed(2)} s -> ${trips.lookups} lookups, ${trips.healthFlushes} flushes ` +
        `(${(trips.healthFlushes / requests).toFixed(3)} extra Redis requests per routed request)`,
    );
  });

  it('keeps routing when Redis is down and answers the health route 503 store_unavailable', async () => {
    await h.stopUpstash();
    try {
      expect((await get('/v1/flows', canaryAuth)).status).toBe(200);
      const res = await h.call('GET', '/v1/admin/canary/health');
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ error: { code: 'store_unavailable', message: expect.stringMatching(/Redis/) } });
    } finally {
      await h.startUpstash();
    }
  });

  it('answers 405 to other methods and 401 without the admin key', async () => {
    expect((await h.call('POST', '/v1/admin/canary/health', {})).status).toBe(405);
    const res = await fetch(`${h.url}/v1/admin/canary/health`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized' } });
  });
});

describe('health counting with canary routing off', () => {
  let h: EdgeHarness;
  beforeAll(async () => {
    h = await startEdgeHarness({ canaryRouting: false });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('counts nothing and asks Redis nothing: there is no canary to guard', async () => {
    const platformId = await h.seedPlatform({ canary: true });
    const auth = { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` };
    h.upstash.stats.reset();
    // A counting edge flushes its first count right after the first response and then once a second; requests
    // over a second and a half leave no room for a flush to hide.
    const started = performance.now();
    let sent = 0;
    while (performance.now() - started < 1_500) {
      const res = await fetch(`${h.url}/v1/flows`, { headers: auth });
      await res.arrayBuffer();
      expect(res.headers.get('x-origin')).toBe('primary');
      sent++;
    }
    expect(sent).toBeGreaterThan(1);
    const view = await healthOf(h);
    expect(view.origins.primary.requests + view.origins.canary.requests).toBe(0);
    expect((await roundTrips(h.upstash.stats)).healthFlushes).toBe(0);
  });
});
