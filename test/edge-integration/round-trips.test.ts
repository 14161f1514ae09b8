import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedPlatformRange, signPrincipalJwt } from '../../dev/seed/seed-data.js';
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

async function requestsFor(platformId: string): Promise<Record<PathName, () => Promise<Response>>> {
  const token = await signPrincipalJwt(h.jwtSecret, platformId);
  const apiKey = await h.seedApiKey(platformId);
  const flowId = await h.seedFlow(platformId);
  const login = await fetch(`${h.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  await login.arrayBuffer();
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  expect(cookie).toMatch(/^ap_canary=/);
  return {
    jwt: () => fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${token}` } }),
    'api-key': () => fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${apiKey}` } }),
    webhook: () => fetch(`${h.url}/v1/webhooks/${flowId}`, { method: 'POST', body: '{}' }),
    cookie: () => fetch(`${h.url}/index.html`, { headers: { cookie } }),
  };
}

async function seedCohort(size: number): Promise<void> {
  await seedPlatformRange(h.pool, { prefix: 'cohort_', count: size, canary: true });
}

const measured: string[] = [];

describe.each([10, 100_000])('with a canary cohort of %i', (cohortSize) => {
  let platformId: string;
  let send: Record<PathName, () => Promise<Response>>;

  beforeAll(async () => {
    await seedCohort(cohortSize);
    platformId = await h.seedPlatform();
    // The flip invalidates the cache, so the cohort including the bulk rows is what gets loaded next.
    expect((await h.admin({ platformId, canary: true })).status).toBe(200);
    send = await requestsFor(platformId);
  });

  it.each(['jwt', 'api-key', 'webhook', 'cookie'] as const)(
    'costs one Redis round trip and no database query per %s request once warm',
    async (path) => {
      const warm = await send[path]();
      await warm.arrayBuffer();
      expect(warm.headers.get('x-origin')).toBe('canary');
      h.upstash.stats.reset();
      h.neon.stats.reset();
      for (let i = 0; i < REQUESTS; i++) {
        const res = await send[path]();
        await res.arrayBuffer();
        expect(res.headers.get('x-origin')).toBe('canary');
      }
      const trips = await roundTrips(h.upstash.stats);
      measured.push(
        `cohort ${cohortSize} ${path}: ${trips.critical / REQUESTS} Redis round trips/request on the critical path ` +
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
