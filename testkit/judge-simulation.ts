import { seededRandom } from './seeded-random.js';
import type { ArmSignals, JudgeOutcome } from '../core/judge/judge.js';
import { judge } from '../core/judge/judge.js';
import type { JudgeSettings } from '../core/judge/judge-settings.js';
import { JUDGE_DEFAULTS } from '../core/judge/judge-settings.js';
import { LATENCY_BOUNDS_MS, emptyCounts } from '../core/judge/signal-counts.js';
import type { SignalCounts } from '../core/judge/signal-counts.js';

// A seeded, offline simulation of the judge: synthetic per-platform counts, drawn the way the edge and the workers
// record them (the product's own buckets), fed to the product's own `judge`. Deterministic for a seed: the figures in
// BENCHMARKS.md and the assertions in test/judge/ come from the same code and the same seeds.

export { seededRandom };

/** Standard normal CDF (Abramowitz–Stegun 7.1.26 erf, |error| < 1.5e-7). */
function normalCdf(x: number): number {
  const t = 1 / (1 + 0.3275911 * (Math.abs(x) / Math.SQRT2));
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  const erf = 1 - poly * Math.exp(-(x * x) / 2);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

/** Cumulative bucket probabilities of a log-normal latency (median, sigma), in the product's buckets. */
function bucketCdf(medianMs: number, sigma: number): number[] {
  return LATENCY_BOUNDS_MS.map((bound) => normalCdf(Math.log(bound / medianMs) / sigma));
}

/** One arm's traffic: how many observations, split over platforms by relative volume, each with its own behaviour. */
export interface ArmSpec {
  /** Relative volume of each platform (e.g. 50 ones: 50 equal platforms). */
  volumes: number[];
  total: number;
  /** Probability that an observation goes wrong, per platform. */
  errorRate: (platform: number) => number;
  /** Log-normal latency per platform. */
  latency: (platform: number) => { medianMs: number; sigma: number };
}

/** A standard normal draw (Box–Muller). */
function normal(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/**
 * A Binomial(n, p) draw: exact by inversion when the variance is small (where the judge's tails live: error counts of
 * a few per platform), the normal approximation when it is at least 25 (large histogram buckets).
 */
function binomial(random: () => number, n: number, p: number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(random, n, 1 - p);
  const mean = n * p;
  const variance = mean * (1 - p);
  if (variance >= 25) return Math.min(n, Math.max(0, Math.round(mean + normal(random) * Math.sqrt(variance))));
  const ratio = p / (1 - p);
  let probability = (1 - p) ** n;
  let cdf = probability;
  const u = random();
  let k = 0;
  while (u > cdf && k < n) {
    probability *= (ratio * (n - k)) / (k + 1);
    k++;
    cdf += probability;
  }
  return k;
}

/** Draws an arm's per-platform counts (platform ids `p<index>`): errors binomial, the histogram multinomial. */
export function drawArm(random: () => number, spec: ArmSpec): Map<string, SignalCounts> {
  const sum = spec.volumes.reduce((a, b) => a + b, 0);
  const arm = new Map<string, SignalCounts>();
  spec.volumes.forEach((volume, p) => {
    const n = Math.round((spec.total * volume) / sum);
    if (n <= 0) return;
    const { medianMs, sigma } = spec.latency(p);
    const cdf = bucketCdf(medianMs, sigma);
    const counts = emptyCounts();
    counts.n = n;
    counts.bad = binomial(random, n, spec.errorRate(p));
    let left = n;
    let below = 0;
    for (let b = 0; b < counts.hist.length; b++) {
      const upTo = b < cdf.length ? (cdf[b] ?? 1) : 1;
      const mass = upTo - below;
      const k = b === counts.hist.length - 1 ? left : binomial(random, left, Math.min(1, mass / Math.max(1e-12, 1 - below)));
      counts.hist[b] = k;
      left -= k;
      below = upTo;
    }
    arm.set(`p${p}`, counts);
  });
  return arm;
}

/** A scenario: how to draw both arms of one run. */
export interface Scenario {
  name: string;
  canary: { requests: ArmSpec; jobs?: ArmSpec };
  baseline: { requests: ArmSpec; jobs?: ArmSpec };
}

/** The judge's settings the simulation uses: the product's defaults. */
export const SIMULATION_SETTINGS: JudgeSettings = { enabled: true, intervalSeconds: 30, windowSeconds: 300, ...JUDGE_DEFAULTS };

/** Runs the scenario `runs` times from `seed`, judging each draw; returns every outcome. */
export function simulate(scenario: Scenario, runs: number, seed: number, settings: JudgeSettings = SIMULATION_SETTINGS): JudgeOutcome[] {
  const random = seededRandom(seed);
  const arm = (spec: { requests: ArmSpec; jobs?: ArmSpec }): ArmSignals => ({
    requests: drawArm(random, spec.requests),
    jobs: spec.jobs === undefined ? new Map() : drawArm(random, spec.jobs),
  });
  const outcomes: JudgeOutcome[] = [];
  for (let r = 0; r < runs; r++) outcomes.push(judge({ canary: arm(scenario.canary), baseline: arm(scenario.baseline) }, settings));
  return outcomes;
}

/** How often each verdict and action came out. */
export interface Tally {
  runs: number;
  fail: number;
  pass: number;
  inconclusive: number;
  pause: number;
  quarantine: number;
  /** Runs that quarantined exactly these platforms (ids joined by ','). */
  quarantined: Record<string, number>;
}

export function tally(outcomes: readonly JudgeOutcome[]): Tally {
  const t: Tally = { runs: outcomes.length, fail: 0, pass: 0, inconclusive: 0, pause: 0, quarantine: 0, quarantined: {} };
  for (const o of outcomes) {
    t[o.verdict]++;
    if (o.action.kind === 'pause') t.pause++;
    if (o.action.kind === 'quarantine') {
      t.quarantine++;
      const key = o.action.platforms.join(',');
      t.quarantined[key] = (t.quarantined[key] ?? 0) + 1;
    }
  }
  return t;
}

const equal = (k: number): number[] => new Array<number>(k).fill(1);
const requestLatency = { medianMs: 120, sigma: 0.6 };
const jobLatency = { medianMs: 2_000, sigma: 0.8 };
const healthy = (total: number, platforms: number, errorRate = 0.005): ArmSpec => ({
  volumes: equal(platforms),
  total,
  errorRate: () => errorRate,
  latency: () => requestLatency,
});
const healthyJobs = (total: number, platforms: number): ArmSpec => ({ volumes: equal(platforms), total, errorRate: () => 0.01, latency: () => jobLatency });

/**
 * The scenarios of the judge's statistics goals (issue "A canary judge that one tenant cannot fool"): 50 canary
 * platforms, 200 baseline platforms, 20,000 requests per arm unless said otherwise, error rate 0.5%, log-normal
 * latency (median 120 ms, σ 0.6); jobs (5,000 per arm, 1% failures, median 2 s, σ 0.8) where both families are judged.
 */
export const SCENARIOS = {
  identical: {
    name: 'identical arms (requests and jobs)',
    canary: { requests: healthy(20_000, 50), jobs: healthyJobs(5_000, 50) },
    baseline: { requests: healthy(20_000, 200), jobs: healthyJobs(5_000, 200) },
  },
  errorsDoubled: {
    name: 'error rate 0.5% -> 1.0%',
    canary: { requests: healthy(20_000, 50, 0.01) },
    baseline: { requests: healthy(20_000, 200) },
  },
  latencyPlus50: {
    name: 'p95 latency +50%',
    canary: { requests: { ...healthy(20_000, 50), latency: () => ({ ...requestLatency, medianMs: requestLatency.medianMs * 1.5 }) } },
    baseline: { requests: healthy(20_000, 200) },
  },
  latencyPlus10: {
    name: 'p95 latency +10%',
    canary: { requests: { ...healthy(20_000, 50), latency: () => ({ ...requestLatency, medianMs: requestLatency.medianMs * 1.1 }) } },
    baseline: { requests: healthy(20_000, 200) },
  },
  belowMinimum: {
    name: 'below the minimum sample (150 canary requests and 60 jobs, the canary failing badly)',
    canary: { requests: { ...healthy(150, 10, 0.5), latency: () => ({ medianMs: 2_000, sigma: 0.6 }) }, jobs: { ...healthyJobs(60, 10), errorRate: () => 0.5 } },
    baseline: { requests: healthy(20_000, 200), jobs: healthyJobs(5_000, 200) },
  },
  oneTenantBroken: {
    name: 'one platform carrying 30% of the canary arm fails all its requests',
    canary: { requests: { ...healthy(20_000, 50), volumes: [49 * (0.3 / 0.7), ...equal(49)], errorRate: (p) => (p === 0 ? 1 : 0.005) } },
    baseline: { requests: healthy(20_000, 200) },
  },
  broadDoubled: {
    name: '2x error rate spread over every platform',
    canary: { requests: healthy(20_000, 50, 0.01) },
    baseline: { requests: healthy(20_000, 200) },
  },
  broadDoubledDiluted: {
    // "10x everyone else's": ten times the other 49 platforms' traffic put together (200,000 healthy requests next to
    // 20,000 failing twice as often), the strongest reading of the dilution attack.
    name: '2x error rate spread over every platform, one platform sending 10x everyone else\'s healthy traffic',
    canary: { requests: { ...healthy(220_000, 50, 0.01), volumes: [490, ...equal(49)], errorRate: (p) => (p === 0 ? 0.005 : 0.01) } },
    baseline: { requests: healthy(20_000, 200) },
  },
} satisfies Record<string, Scenario>;

/** Runs per scenario, and the seed the suite and the bench both start from (scenario i uses SIMULATION_SEED + i). */
export const SIMULATION_RUNS = 1_000;
export const SIMULATION_SEED = 20_261_205;

/** One statistics goal: the scenario, the figure it is read from, and the bound. */
export interface StatisticsGoal {
  scenario: keyof typeof SCENARIOS;
  /** What is counted, for people. */
  figure: string;
  /** The share of runs (0..1) the goal reads from a tally. */
  share(t: Tally): number;
  bound: { atLeast: number } | { atMost: number };
}

/** The judge's statistics goals, in seed order (the suite asserts them; the bench reports them). */
export const STATISTICS_GOALS: readonly StatisticsGoal[] = [
  { scenario: 'identical', figure: '`fail`', share: (t) => t.fail / t.runs, bound: { atMost: 0.01 } },
  { scenario: 'errorsDoubled', figure: '`fail`', share: (t) => t.fail / t.runs, bound: { atLeast: 0.95 } },
  { scenario: 'latencyPlus50', figure: '`fail`', share: (t) => t.fail / t.runs, bound: { atLeast: 0.9 } },
  { scenario: 'latencyPlus10', figure: '`fail`', share: (t) => t.fail / t.runs, bound: { atMost: 0.05 } },
  { scenario: 'belowMinimum', figure: '`inconclusive`', share: (t) => t.inconclusive / t.runs, bound: { atLeast: 1 } },
  { scenario: 'oneTenantBroken', figure: 'that platform alone quarantined, no pause', share: (t) => (t.quarantined.p0 ?? 0) / t.runs, bound: { atLeast: 0.99 } },
  { scenario: 'broadDoubled', figure: 'pause', share: (t) => t.pause / t.runs, bound: { atLeast: 0.95 } },
  { scenario: 'broadDoubledDiluted', figure: 'pause', share: (t) => t.pause / t.runs, bound: { atLeast: 0.95 } },
];

/** The seed of a goal's scenario. */
export function seedOf(scenario: keyof typeof SCENARIOS): number {
  return SIMULATION_SEED + STATISTICS_GOALS.findIndex((g) => g.scenario === scenario);
}
