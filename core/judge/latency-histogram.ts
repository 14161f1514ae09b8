import { LATENCY_BOUNDS_MS, LATENCY_BUCKETS } from './signal-counts.js';

// Inside a bucket the judge assumes durations spread evenly on a log scale (latencies are roughly log-normal). The
// first bucket starts at 1 ms, the open last one ends at twice its lower bound.
const LOWER = [1, ...LATENCY_BOUNDS_MS];
const UPPER = [...LATENCY_BOUNDS_MS, (LATENCY_BOUNDS_MS.at(-1) ?? 1) * 2];

function bounds(i: number): [number, number] {
  return [LOWER[i] ?? 1, UPPER[i] ?? 1];
}

/** The q-quantile (0..1) of a histogram of masses (any scale), or null when it is empty. */
export function quantileMs(masses: readonly number[], q: number): number | null {
  const total = masses.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const target = q * total;
  let below = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    const mass = masses[i] ?? 0;
    if (mass > 0 && below + mass >= target) {
      const [lo, hi] = bounds(i);
      const f = Math.min(1, Math.max(0, (target - below) / mass));
      return lo * (hi / lo) ** f;
    }
    below += mass;
  }
  return bounds(LATENCY_BUCKETS - 1)[1];
}

/** The mass of a histogram above `ms` (interpolated inside its bucket). */
export function massAbove(masses: readonly number[], ms: number): number {
  let above = 0;
  for (let i = 0; i < LATENCY_BUCKETS; i++) {
    const mass = masses[i] ?? 0;
    if (mass === 0) continue;
    const [lo, hi] = bounds(i);
    if (ms <= lo) above += mass;
    else if (ms < hi) above += mass * (1 - Math.log(ms / lo) / Math.log(hi / lo));
  }
  return above;
}
