import { describe, expect, it } from 'vitest';
import { cappedShares } from '../../core/judge/capped-weights.js';
import { massAbove, quantileMs } from '../../core/judge/latency-histogram.js';
import { LATENCY_BUCKETS, countOne, decodeCounts, emptyCounts, encodeCounts, latencyBucket } from '../../core/judge/signal-counts.js';

describe('packed signal counts', () => {
  it('packs the bad count and the histogram from its first non-empty bucket, and reads them back', () => {
    const c = emptyCounts();
    for (const ms of [30, 60, 70, 75, 150]) countOne(c, ms === 150, ms);
    expect(encodeCounts(c)).toBe('1.3.1.3.1');
    expect(decodeCounts('1.3.1.3.1')).toEqual(c);
    expect(encodeCounts(emptyCounts())).toBe('0');
    expect(decodeCounts('0')).toEqual(emptyCounts());
  });

  it('round-trips counts in every bucket, the open last one included', () => {
    const c = emptyCounts();
    for (let b = 0; b < LATENCY_BUCKETS; b++) for (let k = 0; k <= b; k++) countOne(c, k === 0, 3 * 2 ** b);
    expect(c.hist.every((h) => h > 0)).toBe(true);
    expect(decodeCounts(encodeCounts(c))).toEqual(c);
  });

  it('reads garbage, another shape, impossible counts and buckets past the last as nothing (null), never as zero', () => {
    for (const text of ['', 'x', '1.', '.1', '1..2', '-1.0.1', '1.0', '5.0.3', `0.${LATENCY_BUCKETS - 1}.1.1`, '0.99.1', '1e3.0.1', ' 1.0.1', 7, null, undefined]) {
      expect(decodeCounts(text)).toBeNull();
    }
  });

  it('puts a duration in the first bucket whose upper bound holds it', () => {
    expect([0, 5, 5.1, 10, 40_960, 40_961, Infinity].map(latencyBucket)).toEqual([0, 0, 1, 1, 13, 14, 14]);
  });
});

describe('capped shares', () => {
  it('gives no platform more than the cap, and everyone else their volume', () => {
    const shares = cappedShares([1_000_000, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10], 0.1);
    expect(shares[0]).toBeCloseTo(0.1, 10);
    expect(shares.slice(1).every((s) => Math.abs(s - 0.9 / 11) < 1e-12)).toBe(true);
    expect(shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('counts every platform equally when there are too few to keep each under the cap', () => {
    expect(cappedShares([900, 50, 50, 0], 0.1)).toEqual([1 / 3, 1 / 3, 1 / 3, 0]);
    expect(cappedShares([], 0.1)).toEqual([]);
  });
});

describe('latency histogram', () => {
  it('interpolates quantiles on a log scale inside a bucket and counts the mass above a threshold', () => {
    const masses = new Array<number>(LATENCY_BUCKETS).fill(0);
    masses[4] = 100; // 40–80 ms
    expect(quantileMs(masses, 0.5)).toBeCloseTo(40 * Math.SQRT2, 6);
    expect(massAbove(masses, 40)).toBe(100);
    expect(massAbove(masses, 40 * Math.SQRT2)).toBeCloseTo(50, 6);
    expect(massAbove(masses, 80)).toBe(0);
    expect(quantileMs(new Array<number>(LATENCY_BUCKETS).fill(0), 0.95)).toBeNull();
  });
});
