import { describe, expect, it } from 'vitest';
import { effectiveMembership } from '../../core/membership/index.js';
import { BUCKETS, basisPointsToPercent, cachedRolloutBucket, percentToBasisPoints, rolloutBucket } from '../../core/rollout/bucket.js';

describe('rolloutBucket', () => {
  // Pinned: the edge, the origin and the admin status must agree forever, so the rule can never drift.
  it.each([
    ['c0ffee', 'plat-1', 5726],
    ['c0ffee', 'plat-2', 5277],
    ['c0ffee', 'demo-primary', 4787],
    ['c0ffee', '', 1499],
    ['0123456789abcdef0123456789abcdef', 'tenant_42', 7249],
    ['s', 'ümlaut-ß', 5522],
  ])('SHA-256(%j + ":" + %j), first 4 bytes big-endian, mod 10000 = %i', async (salt, platformId, bucket) => {
    expect(await rolloutBucket(salt, platformId)).toBe(bucket);
  });

  const ids = Array.from({ length: 10_000 }, (_, i) => `platform_${i}`);

  it('only adds platforms when the percentage rises and only removes them when it falls (10,000 ids)', async () => {
    const buckets = await Promise.all(ids.map((id) => rolloutBucket('monotonic-salt', id)));
    const cohortAt = (basisPoints: number): Set<string> => new Set(ids.filter((_, i) => (buckets[i] ?? BUCKETS) < basisPoints));
    let previous = cohortAt(0);
    expect(previous.size).toBe(0);
    for (const basisPoints of [1, 50, 500, 1000, 2500, 5000, 7500, 9999, 10_000]) {
      const next = cohortAt(basisPoints);
      for (const id of previous) expect(next.has(id)).toBe(true);
      previous = next;
    }
    expect(previous.size).toBe(ids.length);
  });

  it('spreads platforms evenly: 50% takes about half of 10,000', async () => {
    const inHalf = (await Promise.all(ids.map((id) => rolloutBucket('spread-salt', id)))).filter((b) => b < 5_000).length;
    expect(inHalf).toBeGreaterThan(4_700);
    expect(inHalf).toBeLessThan(5_300);
  });
});

describe('cachedRolloutBucket', () => {
  it('answers what rolloutBucket answers, also for inputs that differ only in where the separator falls', async () => {
    const bucketOf = cachedRolloutBucket(4);
    const inputs: [string, string][] = [['c0ffee', 'plat-1'], ['a:b', 'c'], ['a', 'b:c'], ['c0ffee', 'plat-1'], ['s', 'ümlaut-ß']];
    for (const [salt, id] of inputs) expect(await bucketOf(salt, id)).toBe(await rolloutBucket(salt, id));
  });

  it('keeps answering correctly after evicting, under a stream of distinct ids', async () => {
    const bucketOf = cachedRolloutBucket(3);
    for (let i = 0; i < 50; i++) expect(await bucketOf('salt', `p${i}`)).toBe(await rolloutBucket('salt', `p${i}`));
    expect(await bucketOf('salt', 'p0')).toBe(await rolloutBucket('salt', 'p0')); // evicted long ago: computed again
  });
});

describe('percent and basis points', () => {
  it.each([
    [0, 0],
    [0.01, 1],
    [12.34, 1234],
    [33.33, 3333],
    [100, 10_000],
  ])('%d%% is %i basis points and back', (percent, basisPoints) => {
    expect(percentToBasisPoints(percent)).toBe(basisPoints);
    expect(basisPointsToPercent(basisPoints)).toBe(percent);
  });
});

describe('effectiveMembership', () => {
  const rollout = (basisPoints: number, paused = false) => ({ basisPoints, salt: 'c0ffee', paused });
  it.each([
    ['paused wins over a pin', 'in', rollout(10_000, true), { canary: false, source: 'paused' }],
    ['a pin', 'in', rollout(0), { canary: true, source: 'explicit' }],
    ['an exclusion wins over a 100% rollout', 'out', rollout(10_000), { canary: false, source: 'explicit' }],
    ['the rollout: plat-1 is bucket 5726', null, rollout(5_727), { canary: true, source: 'rollout' }],
    ['just outside the rollout', null, rollout(5_726), { canary: false, source: 'default' }],
    ['no rollout', null, rollout(0), { canary: false, source: 'default' }],
  ] as const)('%s', async (_rule, explicit, state, expected) => {
    expect(await effectiveMembership('plat-1', explicit, state)).toEqual(expected);
  });
});
