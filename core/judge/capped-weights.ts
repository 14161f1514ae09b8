/**
 * How much each platform counts in an arm: its volume, capped so that no platform weighs more than `maxShare` of the
 * arm. With w_p = min(n_p, c), the cap c solves c = maxShare · Σ_p min(n_p, c): the largest platforms are cut down to
 * exactly `maxShare` of the capped total, everyone else counts in full. When there are too few platforms for that
 * (k · maxShare ≤ 1), no weighting can keep every platform under the cap, and every platform counts equally (1/k):
 * the fairest split there is, and the one a tenant cannot tilt with cheap traffic.
 * Returns the share of each platform (summing to 1; zero for platforms without observations).
 */
export function cappedShares(volumes: readonly number[], maxShare: number): number[] {
  const active = volumes.filter((v) => v > 0);
  const k = active.length;
  if (k === 0) return volumes.map(() => 0);
  if (k * maxShare <= 1) return volumes.map((v) => (v > 0 ? 1 / k : 0));
  // Walk the volumes from the largest: with the top j capped at c and the rest in full, c = s (j c + rest) gives
  // c = s · rest / (1 - s j); it is the cap once the next volume is not above it (so that one is not capped).
  const sorted = [...active].sort((a, b) => b - a);
  let rest = sorted.reduce((a, b) => a + b, 0);
  let cap: number | null = null;
  for (let j = 0; j < k && maxShare * j < 1; j++) {
    const next = sorted[j] ?? 0;
    const candidate = (maxShare * rest) / (1 - maxShare * j);
    if (candidate >= next) {
      cap = candidate;
      break;
    }
    rest -= next;
  }
  if (cap === null) return volumes.map((v) => (v > 0 ? 1 / k : 0));
  const capped = cap;
  const weights = volumes.map((v) => (v > 0 ? Math.min(v, capped) : 0));
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}
