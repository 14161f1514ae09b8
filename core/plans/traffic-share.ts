import { isPlatformId } from '../platform-id.js';

/** Requests per platform over the last 24 hours (estimated), and all requests (pseudo-platforms included). */
export interface TrafficWindow {
  platforms: Map<string, number>;
  total: number;
}

/**
 * The last 24 hours from two UTC-day totals: all of today, and yesterday's weighted by the part of the 24 hours it
 * still covers (the sliding-window estimate: yesterday's requests are taken as spread evenly over its hours).
 */
export function trafficWindow(today: ReadonlyMap<string, number>, yesterday: ReadonlyMap<string, number>, nowMs: number): TrafficWindow {
  const elapsed = (nowMs % 86_400_000) / 86_400_000;
  const weight = 1 - elapsed;
  const platforms = new Map<string, number>();
  let total = 0;
  for (const [source, factor] of [[today, 1], [yesterday, weight]] as const) {
    for (const [id, count] of source) {
      const value = count * factor;
      if (!(value > 0)) continue;
      total += value;
      if (isPlatformId(id)) platforms.set(id, (platforms.get(id) ?? 0) + value);
    }
  }
  return { platforms, total };
}

/**
 * The largest rollout (basis points) whose platforms carried at most `percent` of the window's requests (DESIGN §8):
 * the platforms that follow the rollout (no explicit choice), in the order of their stable buckets, taken while their
 * requests stay within the share. Null when no request was recorded (a step cannot be sized on nothing).
 */
export async function basisPointsForShare(
  window: TrafficWindow,
  percent: number,
  explicit: ReadonlySet<string>,
  bucketOf: (platformId: string) => Promise<number>,
): Promise<number | null> {
  if (window.total <= 0) return null;
  const budget = (percent / 100) * window.total;
  const following: { bucket: number; requests: number }[] = [];
  for (const [id, requests] of window.platforms) {
    if (!explicit.has(id)) following.push({ bucket: await bucketOf(id), requests });
  }
  following.sort((a, b) => a.bucket - b.bucket);
  let carried = 0;
  for (let i = 0; i < following.length; ) {
    // Platforms of one bucket come in together: a rollout cannot take one without the others.
    const bucket = following[i]?.bucket ?? 0;
    let together = 0;
    for (; i < following.length && following[i]?.bucket === bucket; i++) together += following[i]?.requests ?? 0;
    if (carried + together > budget) return bucket;
    carried += together;
  }
  return 10_000;
}
