import { quantileSorted } from '../support/stats.js';
import type { LoadResult } from './run-load.js';

/** A ratio measured from many short interleaved cells: each pair's A ÷ B, and their median with its interquartile range. */
export interface InterleavedRatio {
  label: string;
  pairs: number;
  cellSeconds: number;
  ratios: number[];
  median: number;
  q1: number;
  q3: number;
  /** p99 of A ÷ p99 of B, median over the pairs. */
  p99Ratio: number;
  /** Requests of A and of B without an answer or with a non-2xx answer. */
  failures: number;
}

/**
 * Measures A ÷ B (req/s) as `pairs` pairs of short cells, A and B back to back, their order alternating (ABBA...), so
 * the drift of a shared, noisy machine hits both sides of every pair alike; the median of the per-pair ratios and its
 * interquartile range say whether a goal is met with the spread in view (issue: ratios that mean something).
 */
export async function interleavedRatio(
  label: string,
  cellA: () => Promise<LoadResult>,
  cellB: () => Promise<LoadResult>,
  options: { pairs: number; cellSeconds: number },
): Promise<InterleavedRatio> {
  const ratios: number[] = [];
  const p99s: number[] = [];
  let failures = 0;
  for (let i = 0; i < options.pairs; i++) {
    let a: LoadResult;
    let b: LoadResult;
    if (i % 2 === 0) {
      a = await cellA();
      b = await cellB();
    } else {
      b = await cellB();
      a = await cellA();
    }
    failures += a.errors + a.non2xx + b.errors + b.non2xx;
    if (b.rps > 0) ratios.push(a.rps / b.rps);
    if (b.p99Ms > 0) p99s.push(a.p99Ms / b.p99Ms);
  }
  const sorted = [...ratios].sort((x, y) => x - y);
  const sortedP99 = [...p99s].sort((x, y) => x - y);
  return {
    label,
    pairs: options.pairs,
    cellSeconds: options.cellSeconds,
    ratios,
    median: quantileSorted(sorted, 0.5),
    q1: quantileSorted(sorted, 0.25),
    q3: quantileSorted(sorted, 0.75),
    p99Ratio: quantileSorted(sortedP99, 0.5),
    failures,
  };
}
