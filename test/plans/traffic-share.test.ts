import { describe, expect, it } from 'vitest';
import { basisPointsForShare, trafficWindow } from '../../core/plans/traffic-share.js';
import { rolloutBucket } from '../../core/rollout/bucket.js';

const SALT = 'traffic-share-test';
const bucketOf = (id: string): Promise<number> => rolloutBucket(SALT, id);

/** The share of all requests the platforms a rollout of `bp` takes (following platforms, bucket < bp) carried. */
async function shareAt(window: { platforms: Map<string, number>; total: number }, bp: number, explicit: Set<string>): Promise<number> {
  let carried = 0;
  for (const [id, n] of window.platforms) if (!explicit.has(id) && (await bucketOf(id)) < bp) carried += n;
  return carried / window.total;
}

describe('a traffic step', () => {
  // 200 platforms; one carries 30% of the day's requests, the others share the rest unevenly (1..199 units each).
  const platforms = new Map<string, number>();
  const others = Array.from({ length: 199 }, (_, i) => [`p${i}`, i + 1] as const);
  const rest = others.reduce((sum, [, w]) => sum + w, 0);
  for (const [id, w] of others) platforms.set(id, (w / rest) * 70_000);
  platforms.set('big', 30_000);
  const window = { platforms, total: 100_000 };

  it('puts on the canary the platforms that carried at most that share (a 30% platform included only when it fits)', async () => {
    for (const percent of [1, 5, 10, 25, 50]) {
      const bp = await basisPointsForShare(window, percent, new Set(), bucketOf);
      expect(bp).not.toBeNull();
      const share = await shareAt(window, bp ?? 0, new Set());
      expect(share).toBeLessThanOrEqual(percent / 100 + 1e-9);
      // Largest such rollout: one more basis point would take in more than the share (or everything is in).
      if ((bp ?? 0) < 10_000) expect(await shareAt(window, (bp ?? 0) + 1, new Set())).toBeGreaterThan(percent / 100);
    }
    expect((await bucketOf('big')) < ((await basisPointsForShare(window, 10, new Set(), bucketOf)) ?? 0)).toBe(false);
  });

  it('leaves platforms with an explicit choice out of the rollout (their requests still count in the total)', async () => {
    const explicit = new Set(['big', 'p198']);
    const bp = (await basisPointsForShare(window, 10, explicit, bucketOf)) ?? 0;
    expect(await shareAt(window, bp, explicit)).toBeLessThanOrEqual(0.1);
  });

  it('cannot be sized without recorded requests', async () => {
    expect(await basisPointsForShare({ platforms: new Map(), total: 0 }, 10, new Set(), bucketOf)).toBeNull();
  });

  it('estimates the last 24 hours from today and the part of yesterday still inside them', () => {
    const sixAm = Date.UTC(2026, 11, 5, 6);
    const w = trafficWindow(new Map([['a', 100]]), new Map([['a', 400], ['b', 40], [':none', 4]]), sixAm);
    expect(w.platforms.get('a')).toBeCloseTo(100 + 400 * 0.75, 6);
    expect(w.platforms.get('b')).toBeCloseTo(30, 6);
    expect(w.platforms.has(':none')).toBe(false);
    expect(w.total).toBeCloseTo(100 + (400 + 40 + 4) * 0.75, 6);
  });
});
