import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rolloutBucket } from '../../core/rollout/bucket.js';
import { randomId, seedPlatform, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

// The percentage rollout through the real edge (workerd, local Upstash and Neon over real Redis and Postgres): the
// bucket rule decides where each platform goes, from the very next request after a change.

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdgeHarness();
});
afterAll(async () => {
  await h?.close();
});
afterEach(async () => {
  await h.call('POST', '/v1/admin/canary/resume', {});
  await h.call('PUT', '/v1/admin/canary/rollout', { percent: 0 });
});

interface RolloutView {
  percent: number;
  salt: string;
  paused: boolean;
  updatedAt: string;
  updatedBy: string;
}

async function json<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}

async function setRollout(percent: number, headers: Record<string, string> = {}, reason?: string): Promise<RolloutView> {
  const res = await h.call('PUT', '/v1/admin/canary/rollout', reason === undefined ? { percent } : { percent, reason }, headers);
  expect(res.status).toBe(200);
  return json<RolloutView>(res);
}

async function routeOf(platformId: string): Promise<string | null> {
  const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` } });
  await res.arrayBuffer();
  return res.headers.get('x-origin');
}

async function platforms(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => h.seedPlatform()));
}

describe('PUT /v1/admin/canary/rollout', () => {
  it('routes exactly the platforms whose bucket is below the percentage, from the very next request', async () => {
    const ids = await platforms(40);
    const rollout = await setRollout(37.5);
    expect(rollout).toMatchObject({ percent: 37.5, salt: expect.stringMatching(/^[0-9a-f]{32}$/), paused: false, updatedBy: 'api-key' });
    const buckets = new Map(await Promise.all(ids.map(async (id) => [id, await rolloutBucket(rollout.salt, id)] as const)));
    for (const id of ids) {
      const inCohort = (buckets.get(id) ?? Infinity) < 3_750;
      expect(await routeOf(id)).toBe(inCohort ? 'canary' : 'primary');
      expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${id}`))).toEqual({
        platformId: id,
        canary: inCohort,
        source: inCohort ? 'rollout' : 'default',
      });
    }
  });

  it('only adds platforms when raised and only removes them when lowered', async () => {
    // Platforms chosen by their bucket, so every band the steps below cross holds some: each check compares sets that
    // are known to be non-empty and to differ (random ids would leave the 10% set empty in about 4% of runs).
    const { salt } = await json<RolloutView>(await h.call('GET', '/v1/admin/canary/rollout'));
    const bands = [[0, 1_000], [1_000, 2_500], [2_500, 6_000], [6_000, 10_000]] as const;
    const chosen: string[][] = bands.map(() => []);
    while (chosen.some((band) => band.length < 3)) {
      const id = randomId('plat');
      const bucket = await rolloutBucket(salt, id);
      const band = chosen[bands.findIndex(([low, high]) => bucket >= low && bucket < high)];
      if (band !== undefined && band.length < 3) band.push(id);
    }
    const ids = chosen.flat();
    await Promise.all(ids.map((id) => seedPlatform(h.pool, { id })));
    const cohortAt = async (percent: number): Promise<string[]> => {
      await setRollout(percent);
      const routes = await Promise.all(ids.map(async (id) => [id, await routeOf(id)] as const));
      return routes.filter(([, origin]) => origin === 'canary').map(([id]) => id).sort();
    };
    const upTo = (bandCount: number): string[] => chosen.slice(0, bandCount).flat().sort();
    expect(await cohortAt(10)).toEqual(upTo(1));
    expect(await cohortAt(60)).toEqual(upTo(3));
    expect(await cohortAt(100)).toEqual(upTo(4));
    expect(await cohortAt(25)).toEqual(upTo(2));
    expect(await cohortAt(0)).toEqual([]);
  });

  it('is overruled by an explicit choice, and the kill switch overrules both', async () => {
    const [pinned, excluded, follower] = (await platforms(3)) as [string, string, string];
    await h.call('POST', '/v1/admin/platforms/canary', { platformId: pinned, canary: true });
    await h.call('POST', '/v1/admin/platforms/canary', { platformId: excluded, canary: false });
    await setRollout(100);
    expect([await routeOf(pinned), await routeOf(excluded), await routeOf(follower)]).toEqual(['canary', 'primary', 'canary']);
    await setRollout(0);
    expect([await routeOf(pinned), await routeOf(excluded), await routeOf(follower)]).toEqual(['canary', 'primary', 'primary']);
    await setRollout(100);
    expect((await h.call('POST', '/v1/admin/canary/pause', {})).status).toBe(200);
    expect([await routeOf(pinned), await routeOf(excluded), await routeOf(follower)]).toEqual(['primary', 'primary', 'primary']);
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${follower}`))).toMatchObject({ canary: false, source: 'paused' });
    // A pause leaves the rollout itself alone: resuming restores it exactly.
    expect(await json(await h.call('GET', '/v1/admin/canary/rollout'))).toMatchObject({ percent: 100, paused: true });
    await h.call('POST', '/v1/admin/canary/resume', {});
    expect(await routeOf(follower)).toBe('canary');
  });

  it('moves a signed-in browser along: the canary cookie is cleared once the rollout no longer includes its platform', async () => {
    const rollout = await setRollout(50);
    let platformId = randomId('plat');
    while ((await rolloutBucket(rollout.salt, platformId)) >= 5_000) platformId = randomId('plat');
    await seedPlatform(h.pool, { id: platformId });
    const login = await fetch(`${h.url}/v1/me`, { headers: { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` } });
    await login.arrayBuffer();
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^ap_canary=/);
    await setRollout(0);
    const page = await fetch(`${h.url}/index.html`, { headers: { cookie } });
    await page.arrayBuffer();
    expect(page.headers.get('x-origin')).toBe('primary');
    expect(page.headers.get('set-cookie')).toMatch(/^ap_canary=;.*Max-Age=0/);
  });

  it('records who changed it, when and why, with the percentages before and after', async () => {
    await setRollout(5);
    const changed = await setRollout(12.25, { 'x-canary-actor': 'release-manager' }, 'widen to the beta tier');
    expect(changed).toMatchObject({ percent: 12.25, updatedBy: 'api:release-manager' });
    expect(Date.parse(changed.updatedAt)).toBeGreaterThan(Date.now() - 60_000);
    const { entries } = await json<{ entries: Record<string, unknown>[] }>(await h.call('GET', '/v1/admin/canary/audit?limit=1'));
    expect(entries[0]).toMatchObject({
      actor: 'api:release-manager',
      action: 'rollout',
      platformId: null,
      before: { percent: 5, paused: false },
      after: { percent: 12.25, paused: false },
      reason: 'widen to the beta tier',
    });
    expect(await json(await h.call('GET', '/v1/admin/platforms/canary'))).toMatchObject({ rollout: { percent: 12.25, salt: changed.salt } });
  });

  it.each([
    [{ percent: 101 }],
    [{ percent: -1 }],
    [{ percent: 12.345 }],
    [{ percent: '50' }],
    [{}],
    [{ percent: 5, extra: true }],
  ])('answers 400 invalid_body for %j and changes nothing', async (body) => {
    await setRollout(3);
    const res = await h.call('PUT', '/v1/admin/canary/rollout', body);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: 'invalid_body', message: expect.stringContaining('percent') } });
    expect(await json(await h.call('GET', '/v1/admin/canary/rollout'))).toMatchObject({ percent: 3 });
  });

  it('answers 401 without the api-key and 405 for POST', async () => {
    const anonymous = await fetch(`${h.url}/v1/admin/canary/rollout`, { method: 'PUT', body: JSON.stringify({ percent: 50 }) });
    expect(anonymous.status).toBe(401);
    const post = await h.call('POST', '/v1/admin/canary/rollout', { percent: 50 });
    expect(post.status).toBe(405);
    expect(await json(post)).toMatchObject({ error: { code: 'method_not_allowed' } });
    expect(await json(await h.call('GET', '/v1/admin/canary/rollout'))).toMatchObject({ percent: 0 });
  });
});
