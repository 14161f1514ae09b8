import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../core/cache/bounded-cache.js';

describe('BoundedCache', () => {
  it('never holds more than maxEntries, evicting the oldest insert first', () => {
    const cache = new BoundedCache<number>(3);
    for (let i = 0; i < 1_000; i++) cache.set(`k${i}`, i);
    expect(cache.size).toBe(3);
    expect([cache.get('k996'), cache.get('k997'), cache.get('k998'), cache.get('k999')]).toEqual([undefined, 997, 998, 999]);
  });

  it('replaces a value in place without evicting another', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    cache.set('a', 3);
    expect([cache.get('a'), cache.get('b'), cache.size]).toEqual([3, 2, 2]);
  });

  it('forgets a deleted key', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
  });

  it('refuses a size that is not a positive integer', () => {
    expect(() => new BoundedCache(0)).toThrow(/positive integer/);
  });
});
