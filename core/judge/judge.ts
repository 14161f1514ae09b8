import { isPlatformId } from '../platform-id.js';
import { cappedShares } from './capped-weights.js';
import type { JudgeSettings } from './judge-settings.js';
import { massAbove, quantileMs } from './latency-histogram.js';
import type { SignalCounts } from './signal-counts.js';
import { LATENCY_BUCKETS } from './signal-counts.js';

/** One arm's signals over the judge's window, by platform (pseudo-ids `:none` and `:other` are never platforms). */
export interface ArmSignals {
  requests: ReadonlyMap<string, SignalCounts>;
  jobs: ReadonlyMap<string, SignalCounts>;
}

export interface JudgeInput {
  /** Canary-routed requests (overrides excluded) and canary workers' jobs. */
  canary: ArmSignals;
  /** Primary-routed requests and primary workers' jobs. */
  baseline: ArmSignals;
}

export type MetricName = 'requestErrors' | 'jobFailures' | 'requestLatency' | 'jobLatency';
export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** An arm's view of one metric: how much data, the capped rate of bad outcomes and its 95% interval. */
export interface ArmEvidence {
  platforms: number;
  n: number;
  /** Errors, failed jobs, or observations slower than the latency threshold. */
  bad: number;
  /** The capped rate (no platform above the share), and its 95% interval. */
  rate: number;
  interval: [number, number];
}

/** A platform that drove a metric: its own numbers and how many bad outcomes it had beyond the reference rate. */
export interface Driver {
  platformId: string;
  n: number;
  bad: number;
  rate: number;
  excess: number;
}

export interface MetricVerdict {
  metric: MetricName;
  verdict: Verdict;
  /** One line for people. */
  reason: string;
  canary: ArmEvidence;
  baseline: ArmEvidence | null;
  /** The rate the canary's bad-outcome rate is held to (the baseline's with its tolerance, or a fixed one). */
  reference: number | null;
  /** (canary − reference) in standard errors; a failure needs more than `confidenceZ`. */
  z: number | null;
  latency?: { baselineP95Ms: number | null; canaryP95Ms: number | null; thresholdMs: number | null };
  drivers: Driver[];
  /** For a failure: the platforms without which the canary arm does not fail (fewer than minPlatforms), or null (broad). */
  concentratedIn: string[] | null;
}

export type JudgeAction = { kind: 'none' } | { kind: 'quarantine'; platforms: string[] } | { kind: 'pause' };

export interface JudgeOutcome {
  verdict: Verdict;
  action: JudgeAction;
  metrics: Record<MetricName, MetricVerdict>;
}

type Entry = { platformId: string; n: number; x: number };

const Z95 = 1.96;

/** The capped rate of an arm (Σ ω_p x_p / n_p) with Σ ω_p² / n_p, the variance factor of a proportion. */
function cappedRate(entries: readonly Entry[], maxShare: number): { rate: number; varianceFactor: number; n: number; x: number } {
  const shares = cappedShares(entries.map((e) => e.n), maxShare);
  let rate = 0;
  let varianceFactor = 0;
  let n = 0;
  let x = 0;
  entries.forEach((e, i) => {
    const w = shares[i] ?? 0;
    if (e.n <= 0 || w <= 0) return;
    rate += (w * e.x) / e.n;
    varianceFactor += (w * w) / e.n;
    n += e.n;
    x += e.x;
  });
  return { rate, varianceFactor, n, x };
}

/** Standard error of a capped rate, smoothed (one bad and one good outcome added) so zero counts are not certainty. */
function standardError(rate: number, varianceFactor: number): number {
  if (varianceFactor <= 0) return Infinity;
  const nEff = 1 / varianceFactor;
  const smoothed = (rate * nEff + 1) / (nEff + 2);
  return Math.sqrt(smoothed * (1 - smoothed) * varianceFactor);
}

function evidence(entries: readonly Entry[], maxShare: number): ArmEvidence & { se: number } {
  const { rate, varianceFactor, n, x } = cappedRate(entries, maxShare);
  const se = standardError(rate, varianceFactor);
  const half = Number.isFinite(se) ? Z95 * se : 1;
  return { platforms: entries.filter((e) => e.n > 0).length, n, bad: x, rate, interval: [Math.max(0, rate - half), Math.min(1, rate + half)], se };
}

/** Wilson lower bound of a platform's own rate at confidence z: "its rate is above `reference`" when it exceeds it. */
function wilsonLower(x: number, n: number, z: number): number {
  if (n <= 0) return 0;
  const p = x / n;
  const z2 = z * z;
  return (p + z2 / (2 * n) - z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
}

function drivers(entries: readonly Entry[], reference: number): Driver[] {
  return entries
    .map((e) => ({ platformId: e.platformId, n: e.n, bad: e.x, rate: e.n > 0 ? e.x / e.n : 0, excess: e.x - e.n * reference }))
    .filter((d) => d.excess > 0)
    .sort((a, b) => b.excess - a.excess)
    .slice(0, 5)
    .map((d) => ({ ...d, bad: round(d.bad), excess: round(d.excess), rate: round(d.rate, 6) }));
}

function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

function percent(rate: number): string {
  return `${(rate * 100).toFixed(2)}%`;
}

/** A metric judged on entries: the canary's capped rate against a reference (from the baseline, or fixed). */
interface RateJudgement {
  verdict: Verdict;
  z: number | null;
  canary: ArmEvidence;
}

/** How one metric is computed from its entries, so it can be judged again on the arm without some platforms. */
interface MetricRule {
  name: MetricName;
  minSample: number;
  /** The canary's entries (bad = errors, failures, or slow observations). */
  canaryEntries: Entry[];
  baseline: (ArmEvidence & { se: number }) | null;
  /** Rate the canary is held to, and the standard error that reference carries (0 for a fixed one). */
  reference: number;
  referenceSe: number;
}

function judgeRate(rule: MetricRule, entries: readonly Entry[], settings: JudgeSettings): RateJudgement {
  const canary = evidence(entries, settings.maxPlatformShare);
  const { se: _se, ...shown } = canary;
  if (canary.n < rule.minSample) return { verdict: 'inconclusive', z: null, canary: shown };
  const se = Math.sqrt(canary.se ** 2 + rule.referenceSe ** 2);
  const z = Number.isFinite(se) && se > 0 ? (canary.rate - rule.reference) / se : null;
  return { verdict: z !== null && z > settings.confidenceZ ? 'fail' : 'pass', z: z === null ? null : round(z, 3), canary: shown };
}

/**
 * Share of the arm's excess (its capped bad-outcome rate above the reference, summed over the platforms above it) that
 * the platforms to quarantine must account for: a failure is theirs only when it is almost entirely theirs. A broad
 * regression, or a noisy neighbour slowing everyone a little, is not concentrated.
 */
const CONCENTRATION_SHARE = 0.8;

/**
 * The platforms without which the metric's failure disappears: the fewest (fewer than `minPlatforms`), each itself
 * significantly above the reference (so a tenant can only ever quarantine itself), together carrying at least
 * CONCENTRATION_SHARE of the arm's excess, the arm without them not failing. Null when there are none such: the
 * failure is broad.
 */
function concentration(rule: MetricRule, settings: JudgeSettings): string[] | null {
  const shares = cappedShares(rule.canaryEntries.map((e) => e.n), settings.maxPlatformShare);
  const excess = new Map(rule.canaryEntries.map((e, i) => [e.platformId, e.n > 0 ? (shares[i] ?? 0) * (e.x / e.n - rule.reference) : 0]));
  const totalExcess = [...excess.values()].reduce((sum, v) => sum + Math.max(0, v), 0);
  const suspects = rule.canaryEntries
    .filter((e) => isPlatformId(e.platformId) && wilsonLower(e.x, e.n, settings.confidenceZ) > rule.reference)
    .sort((a, b) => (excess.get(b.platformId) ?? 0) - (excess.get(a.platformId) ?? 0));
  for (let m = 1; m < settings.minPlatforms && m <= suspects.length; m++) {
    const top = suspects.slice(0, m);
    const theirs = top.reduce((sum, e) => sum + Math.max(0, excess.get(e.platformId) ?? 0), 0);
    if (totalExcess <= 0 || theirs < CONCENTRATION_SHARE * totalExcess) continue;
    const removed = new Set(top.map((e) => e.platformId));
    if (judgeRate(rule, rule.canaryEntries.filter((e) => !removed.has(e.platformId)), settings).verdict !== 'fail') return [...removed].sort();
  }
  return null;
}

function metricVerdict(rule: MetricRule, settings: JudgeSettings, reasonOf: (j: RateJudgement) => string, latency?: MetricVerdict['latency']): MetricVerdict {
  const judged = judgeRate(rule, rule.canaryEntries, settings);
  const { se: _se, ...baseline } = rule.baseline ?? { se: 0 };
  return {
    metric: rule.name,
    verdict: judged.verdict,
    reason: reasonOf(judged),
    canary: judged.canary,
    baseline: rule.baseline === null ? null : (baseline as ArmEvidence),
    reference: round(rule.reference, 6),
    z: judged.z,
    ...(latency === undefined ? {} : { latency }),
    drivers: drivers(rule.canaryEntries, rule.reference),
    concentratedIn: judged.verdict === 'fail' ? concentration(rule, settings) : null,
  };
}

function entriesOf(signals: ReadonlyMap<string, SignalCounts>, bad: (c: SignalCounts) => number): Entry[] {
  return [...signals].map(([platformId, c]) => ({ platformId, n: c.n, x: bad(c) }));
}

function total(signals: ReadonlyMap<string, SignalCounts>): number {
  let n = 0;
  for (const c of signals.values()) n += c.n;
  return n;
}

/** Error (or job failure) rate: the canary against the baseline's rate with its tolerance, or the fixed ceiling. */
function judgeErrors(name: 'requestErrors' | 'jobFailures', input: JudgeInput, settings: JudgeSettings): MetricVerdict {
  const kind = name === 'requestErrors' ? 'requests' : 'jobs';
  const minSample = kind === 'requests' ? settings.minRequests : settings.minJobs;
  const baseEntries = entriesOf(input.baseline[kind], (c) => c.bad);
  const base = evidence(baseEntries, settings.maxPlatformShare);
  const withBaseline = base.n >= minSample;
  const factor = 1 + settings.errorTolerance;
  const rule: MetricRule = {
    name,
    minSample,
    canaryEntries: entriesOf(input.canary[kind], (c) => c.bad),
    baseline: base.n > 0 ? base : null,
    reference: withBaseline ? base.rate * factor : settings.maxErrorRate,
    referenceSe: withBaseline ? base.se * factor : 0,
  };
  const what = kind === 'requests' ? 'server-error rate' : 'job failure rate';
  const against = withBaseline
    ? `the baseline's ${percent(base.rate)} plus ${Math.round(settings.errorTolerance * 100)}%`
    : `the ${percent(settings.maxErrorRate)} ceiling (the baseline has too little data to compare with)`;
  return metricVerdict(rule, settings, (j) => {
    if (j.verdict === 'inconclusive') return `below the minimum sample: ${j.canary.n} canary ${kind} of ${minSample}`;
    return `canary ${what} ${percent(j.canary.rate)} (95% ${percent(j.canary.interval[0])}–${percent(j.canary.interval[1])}) ${j.verdict === 'fail' ? 'is above' : 'is not above'} ${against}`;
  });
}

/**
 * p95 latency (or job duration): the threshold is the baseline's p95 with the latency tolerance (and at least the
 * floor above it), and the canary fails
 * when significantly more than 5% of its (capped) observations are slower than that, i.e. its own p95 is above it.
 */
function judgeLatency(name: 'requestLatency' | 'jobLatency', input: JudgeInput, settings: JudgeSettings): MetricVerdict {
  const kind = name === 'requestLatency' ? 'requests' : 'jobs';
  const minSample = kind === 'requests' ? settings.minRequests : settings.minJobs;
  const pooled = (signals: ReadonlyMap<string, SignalCounts>): number[] => {
    const list = [...signals.values()];
    const shares = cappedShares(list.map((c) => c.n), settings.maxPlatformShare);
    const masses = new Array<number>(LATENCY_BUCKETS).fill(0);
    list.forEach((c, i) => {
      const w = shares[i] ?? 0;
      if (c.n > 0 && w > 0) c.hist.forEach((h, b) => (masses[b] = (masses[b] ?? 0) + (w * h) / c.n));
    });
    return masses;
  };
  const baselineN = total(input.baseline[kind]);
  const baselineP95 = baselineN >= minSample ? quantileMs(pooled(input.baseline[kind]), 0.95) : null;
  const canaryP95 = total(input.canary[kind]) > 0 ? quantileMs(pooled(input.canary[kind]), 0.95) : null;
  const threshold = baselineP95 === null ? null : Math.max(baselineP95 * (1 + settings.latencyTolerance), baselineP95 + settings.latencyFloorMs);
  const slow = (c: SignalCounts): number => (threshold === null ? 0 : massAbove(c.hist, threshold));
  const latency = { baselineP95Ms: baselineP95 === null ? null : round(baselineP95, 1), canaryP95Ms: canaryP95 === null ? null : round(canaryP95, 1), thresholdMs: threshold === null ? null : round(threshold, 1) };
  const rule: MetricRule = {
    name,
    // Without a baseline there is no threshold: the metric cannot be judged, whatever the canary's sample.
    minSample: threshold === null ? Infinity : minSample,
    canaryEntries: entriesOf(input.canary[kind], slow),
    baseline: threshold === null ? null : evidence(entriesOf(input.baseline[kind], slow), settings.maxPlatformShare),
    reference: 0.05,
    referenceSe: 0,
  };
  const what = kind === 'requests' ? 'requests' : 'jobs';
  return metricVerdict(
    rule,
    settings,
    (j) => {
      if (threshold === null) return `no baseline to compare with: ${baselineN} baseline ${what} of ${minSample}`;
      if (j.verdict === 'inconclusive') return `below the minimum sample: ${j.canary.n} canary ${what} of ${minSample}`;
      return `canary p95 ${Math.round(canaryP95 ?? 0)} ms: ${percent(j.canary.rate)} of its ${what} are slower than ${Math.round(threshold)} ms (the baseline's p95 ${Math.round(baselineP95 ?? 0)} ms plus ${Math.round(settings.latencyTolerance * 100)}%, at least ${settings.latencyFloorMs} ms), ${j.verdict === 'fail' ? 'significantly more' : 'not significantly more'} than 5%`;
    },
    latency,
  );
}

/**
 * The judge (DESIGN §8): the canary arm against the baseline arm over the window, on request error rate, job failure
 * rate, and p95 latency of requests and jobs, each with no platform weighing more than `maxPlatformShare`. `fail` on
 * any metric fails; `pass` needs the minimum sample in at least one family (requests or jobs) and no failure;
 * otherwise `inconclusive`. A failure whose excess comes from fewer than `minPlatforms` platforms (each itself above
 * the reference, the arm not failing without them) quarantines exactly those; any other failure pauses the canary.
 * Pure: the tick (origin/judge/judge-tick.ts) reads the signals and acts on the outcome.
 */
export function judge(input: JudgeInput, settings: JudgeSettings): JudgeOutcome {
  const metrics: Record<MetricName, MetricVerdict> = {
    requestErrors: judgeErrors('requestErrors', input, settings),
    jobFailures: judgeErrors('jobFailures', input, settings),
    requestLatency: judgeLatency('requestLatency', input, settings),
    jobLatency: judgeLatency('jobLatency', input, settings),
  };
  const all = Object.values(metrics);
  const failing = all.filter((m) => m.verdict === 'fail');
  const sampled = metrics.requestErrors.verdict !== 'inconclusive' || metrics.jobFailures.verdict !== 'inconclusive';
  const verdict: Verdict = failing.length > 0 ? 'fail' : sampled ? 'pass' : 'inconclusive';
  let action: JudgeAction = { kind: 'none' };
  if (failing.length > 0) {
    const concentrated = failing.map((m) => m.concentratedIn);
    const union = new Set(concentrated.flatMap((c) => c ?? []));
    action = concentrated.every((c) => c !== null) && union.size < settings.minPlatforms ? { kind: 'quarantine', platforms: [...union].sort() } : { kind: 'pause' };
  }
  return { verdict, action, metrics };
}
