import { BoundedCache } from '../cache/bounded-cache.js';
import { utf8 } from '../crypto/encoding.js';

/** Buckets a rollout is divided into: a percentage with two decimals is a number of basis points, 0..10000. */
export const BUCKETS = 10_000;

/**
 * The platform's rollout bucket: the first 4 bytes of SHA-256(`${salt}:${platformId}`) as a big-endian unsigned
 * integer, modulo 10000. Stable for a salt, so raising the percentage only adds platforms and lowering it only
 * removes them. The edge, the origin's fleet choice and the admin status all call this one function.
 */
export async function rolloutBucket(salt: string, platformId: string): Promise<number> {
  const digest = new DataView(await crypto.subtle.digest('SHA-256', utf8(`${salt}:${platformId}`)));
  return digest.getUint32(0, false) % BUCKETS;
}

/** A rollout bucket function: rolloutBucket itself, or a memo of it. */
export type BucketOf = (salt: string, platformId: string) => Promise<number>;

/**
 * rolloutBucket remembered per isolate or process (bounded): under a rollout every request of a platform would
 * otherwise hash again. The key is the hash's exact input, so two inputs can never share an entry.
 */
export function cachedRolloutBucket(maxEntries = 5_000): BucketOf {
  const buckets = new BoundedCache<number>(maxEntries);
  return async (salt, platformId) => {
    const key = `${salt}:${platformId}`;
    const known = buckets.get(key);
    if (known !== undefined) return known;
    const bucket = await rolloutBucket(salt, platformId);
    buckets.set(key, bucket);
    return bucket;
  };
}

/** Basis points of a percentage with at most two decimals (12.34 -> 1234). */
export function percentToBasisPoints(percent: number): number {
  return Math.round(percent * 100);
}

/** The percentage of a number of basis points (1234 -> 12.34). */
export function basisPointsToPercent(basisPoints: number): number {
  return basisPoints / 100;
}
