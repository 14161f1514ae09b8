/**
 * What the judge reads of one platform in one arm over one minute: how many requests (or jobs), how many went wrong
 * (server errors, failed jobs), and a coarse histogram of how long they took (time to response headers, job
 * duration). Stored packed in one Redis hash field per platform-minute, so a judge window of 100,000 platform-minutes
 * stays within a few megabytes.
 */
export interface SignalCounts {
  n: number;
  bad: number;
  /** Counts per latency bucket (LATENCY_BOUNDS_MS), length LATENCY_BUCKETS. */
  hist: number[];
}

/**
 * Upper bounds of the latency buckets, in ms: factor 2 from 5 ms to 40.96 s, plus one bucket for everything slower.
 * Coarse on purpose (a platform-minute is one short field); the judge interpolates inside a bucket on a log scale.
 */
export const LATENCY_BOUNDS_MS = [5, 10, 20, 40, 80, 160, 320, 640, 1_280, 2_560, 5_120, 10_240, 20_480, 40_960] as const;
export const LATENCY_BUCKETS = LATENCY_BOUNDS_MS.length + 1;

/** The bucket of a duration. */
export function latencyBucket(ms: number): number {
  for (let i = 0; i < LATENCY_BOUNDS_MS.length; i++) if (ms <= (LATENCY_BOUNDS_MS[i] ?? Infinity)) return i;
  return LATENCY_BOUNDS_MS.length;
}

/** Empty counts. */
export function emptyCounts(): SignalCounts {
  return { n: 0, bad: 0, hist: new Array<number>(LATENCY_BUCKETS).fill(0) };
}

/** Adds `from` into `into` (in place) and returns `into`. */
export function addInto(into: SignalCounts, from: SignalCounts): SignalCounts {
  into.n += from.n;
  into.bad += from.bad;
  for (let i = 0; i < LATENCY_BUCKETS; i++) into.hist[i] = (into.hist[i] ?? 0) + (from.hist[i] ?? 0);
  return into;
}

/** Counts one observation. */
export function countOne(into: SignalCounts, bad: boolean, ms: number): void {
  into.n++;
  if (bad) into.bad++;
  const b = latencyBucket(ms);
  into.hist[b] = (into.hist[b] ?? 0) + 1;
}

/**
 * The packed form: `bad.first.h_first…h_last`, the bad count, then the histogram from its first non-empty bucket (its
 * index) to its last; n is the histogram's sum. A typical platform-minute ("0.4.3.9.2") stays within 14 characters,
 * the smallest value allocation Redis makes for a hash field (BENCHMARKS.md: bytes per platform-minute). No
 * observation at all packs as the bad count alone ("0").
 */
export function encodeCounts(c: SignalCounts): string {
  let first = 0;
  while (first < c.hist.length && (c.hist[first] ?? 0) === 0) first++;
  if (first === c.hist.length) return String(c.bad);
  let last = c.hist.length - 1;
  while ((c.hist[last] ?? 0) === 0) last--;
  return [c.bad, first, ...c.hist.slice(first, last + 1)].join('.');
}

const PACKED = /^\d{1,12}(\.\d{1,12}){0,16}$/;

/**
 * The counts of a packed field, or null for anything else (garbage, a value of another build, counts that cannot be:
 * more errors than observations, buckets beyond the last). The judge treats null as missing data, never as zero.
 */
export function decodeCounts(text: unknown): SignalCounts | null {
  if (typeof text !== 'string' || !PACKED.test(text)) return null;
  const [bad = 0, first, ...buckets] = text.split('.').map(Number);
  const hist = new Array<number>(LATENCY_BUCKETS).fill(0);
  if (first !== undefined) {
    if (buckets.length === 0 || first + buckets.length > LATENCY_BUCKETS) return null;
    buckets.forEach((count, i) => (hist[first + i] = count));
  }
  const n = hist.reduce((a, b) => a + b, 0);
  if (bad > n) return null;
  return { n, bad, hist };
}
