import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../../core/rollout/bucket.js';
import { randomId, seedPlatform, seedPlatformRange, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import { roundTrips } from '../../testkit/round-trips.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdgeHarness();
});
afterAll(async () => {
  await h?.close();
});

type PathName = 'jwt' | 'api-key' | 'webhook' | 'cookie';
const REQUESTS = 20;

async function requestsFor(platformId: string, headers: Record<string, string> = {}): Promise<Record<PathName, () => Promise<Response>>> {
  const token = await signPrincipalJwt(h.jwtSecret, platformId);
  const apiKey = await h.seedApiKey(platformId);
  const flowId = await h.seedFlow(platformId);
  // Signed in while the platform is routed to the canary, so the cookie path has its cookie.
  const login = await fetch(`${h.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  await login.arrayBuffer();
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(cookie).toMatch(/^ap_canary=/);
  return {
    jwt: () => fetch(`${h.url}/v1/flows`, { headers: { ...headers, authorization: `Bearer ${token}` } }),
    'api-key': () => fetch(`${h.url}/v1/flows`, { headers: { ...headers, authorization: `Bearer ${apiKey}` } }),
    webhook: () => fetch(`${h.url}/v1/webhooks/${flowId}`, { method: 'POST', body: '{}', headers }),
    cookie: () => fetch(`${h.url}/index.html`, { headers: { ...headers, cookie } }),
  };
}

/** A fresh platform id whose bucket under `salt` is below `basisPoints`. */
async function platformInRollout(salt: string, basisPoints: number): Promise<string> {
  for (;;) {
    const id = randomId('plat');
    if ((await rolloutBucket(salt, id)) < basisPoints) return id;
  }
}

interface Scenario {
  name: string;
  /** Prepares the stores; answers the platform, extra request headers and the origin every request must reach. */
  setup(): Promise<{ platformId: string; headers?: Record<string, string>; origin: 'canary' | 'primary' }>;
  teardown?(): Promise<void>;
}

const pinned = (cohort: number): Scenario => ({
  name: `pinned, a cohort of ${cohort} (rollout 0%)`,
  async setup() {
    await seedPlatformRange(h.pool, { prefix: 'cohort_', count: cohort, canary: true });
    const platformId = await h.seedPlatform();
    // The flip invalidates the cache, so the cohort including the bulk rows is what gets loaded next.
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    return { platformId, origin: 'canary' };
  },
});

const SCENARIOS: Scenario[] = [
  pinned(10),
  pinned(100_000),
  {
    name: 'rollout 50% over 100,000 platforms',
    async setup() {
      await seedPlatformRange(h.pool, { prefix: 'cohort_', count: 100_000, canary: false });
      const rollout = await h.call('PUT', '/v1/admin/canary/rollout', { percent: 50 });
      expect(rollout.status).toBe(200);
      const { salt } = (await rollout.json()) as { salt: string };
      const platformId = await platformInRollout(salt, 5_000);
      await seedPlatform(h.pool, { id: platformId });
      return { platformId, origin: 'canary' };
    },
    async teardown() {
      expect((await h.call('PUT', '/v1/admin/canary/rollout', { percent: 0 })).status).toBe(200);
    },
  },
  {
    name: 'a primary override scoped to a pinned platform',
    async setup() {
      const platformId = await h.seedPlatform();
      expect((await h.admin({ platformId, canary: true })).status).toBe(200);
      const minted = await h.call('POST', '/v1/admin/canary/overrides', { target: 'primary', ttlSeconds: 3600, platformId });
      const { token } = (await minted.json()) as { token: string };
      return { platformId, headers: { 'x-canary-override': token }, origin: 'primary' };
    },
  },
];

const measured: string[] = [];

describe.each(SCENARIOS)('with $name', (scenario) => {
  let send: Record<PathName, () => Promise<Response>>;
  let origin: 'canary' | 'primary';

  beforeAll(async () => {
    const prepared = await scenario.setup();
    origin = prepared.origin;
    send = await requestsFor(prepared.platformId, prepared.headers);
  });
  afterAll(async () => {
    await scenario.teardown?.();
  });

  it.each(['jwt', 'api-key', 'webhook', 'cookie'] as const)(
    'costs one Redis round trip and no database query per %s request once warm',
    async (path) => {
      const warm = await send[path]();
      await warm.arrayBuffer();
      expect(warm.headers.get('x-origin')).toBe(origin);
      h.upstash.stats.reset();
      h.neon.stats.reset();
      for (let i = 0; i < REQUESTS; i++) {
        const res = await send[path]();
        await res.arrayBuffer();
        expect(res.headers.get('x-origin')).toBe(origin);
      }
      const trips = await roundTrips(h.upstash.stats);
      measured.push(
        `${scenario.name}, ${path}: ${trips.critical / REQUESTS} Redis round trips/request on the critical path ` +
          `(+${trips.healthFlushes} health flushes after responses), ${h.neon.stats.queries} DB queries`,
      );
      expect(trips.critical).toBe(REQUESTS);
      expect(trips.lookups).toBe(REQUESTS);
      expect(h.neon.stats.queries).toBe(0);
    },
  );
});

afterAll(() => {
  console.log(measured.join('\n'));
});
