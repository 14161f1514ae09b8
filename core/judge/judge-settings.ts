/**
 * The judge's settings. Origin env: the guard's `CANARY_GUARD_*` keep their meaning (enabled, interval, window, the
 * minimum sample, the absolute error ceiling used when there is no baseline to compare with); `CANARY_JUDGE_*` add
 * the rest (origin/config.ts declares each with its default).
 */
export interface JudgeSettings {
  enabled: boolean;
  intervalSeconds: number;
  windowSeconds: number;
  /** Fewer canary requests than this in the window: the request metrics are inconclusive (CANARY_GUARD_MIN_REQUESTS). */
  minRequests: number;
  /** Fewer canary jobs than this: the job metrics are inconclusive. */
  minJobs: number;
  /** The error (and job failure) rate the canary may not exceed when the baseline has too little data to compare. */
  maxErrorRate: number;
  /** No platform weighs more than this share of an arm, in any metric. */
  maxPlatformShare: number;
  /** A failure driven by fewer platforms than this quarantines them; from this many on, it pauses the canary. */
  minPlatforms: number;
  /** How much higher than the baseline's the canary's error and failure rates may be before it is a regression (0.1 = 10%). */
  errorTolerance: number;
  /** How much slower than the baseline's p95 the canary's p95 may be before it is a regression (0.25 = 25%). */
  latencyTolerance: number;
  /** ...and at least this much slower, in ms: a few milliseconds on a fast endpoint are noise, not a regression. */
  latencyFloorMs: number;
  /** One-sided z a difference must exceed to be called a failure (3.09 ≈ 99.9% confidence per metric). */
  confidenceZ: number;
}

/** The defaults (also origin/config.ts's). */
export const JUDGE_DEFAULTS: Omit<JudgeSettings, 'enabled' | 'intervalSeconds' | 'windowSeconds'> = {
  minRequests: 200,
  minJobs: 100,
  maxErrorRate: 0.05,
  maxPlatformShare: 0.1,
  minPlatforms: 3,
  errorTolerance: 0.1,
  latencyTolerance: 0.25,
  latencyFloorMs: 50,
  confidenceZ: 3.09,
};
