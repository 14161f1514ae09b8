import { ExitCode } from '../cli/index.js';

/**
 * Exit codes of npm run edge:check: 0 healthy; 1 the analytics could not be read (no verdict, never "healthy");
 * 2 usage; 3 unhealthy (the new version errors more than the previous one allows); 5 inconclusive (too few requests
 * to compare). 4 is left out on purpose: across the delivery CLIs it always means "the migration ledger disagrees".
 */
export const EdgeCheckExitCode = {
  ...ExitCode,
  unhealthy: 3,
  inconclusive: 5,
} as const;

/** Requests and errors one version served over the window. */
export interface VersionTraffic {
  requests: number;
  errors: number;
}

/** When a comparison is allowed, and how much worse the new version may be. */
export interface VerdictThresholds {
  /** Each version must have served at least this many requests, or the verdict is inconclusive. */
  minRequests: number;
  /** The new version's error rate may exceed the previous one's by at most this many percentage points. */
  maxIncreasePoints: number;
}

/** The outcome of comparing the new version with the previous one. */
export interface Verdict {
  kind: 'healthy' | 'unhealthy' | 'inconclusive';
  /** One line naming the rates (or the request counts) it was decided on. */
  reason: string;
}

const percent = (value: number) => `${value.toFixed(2)}%`;
const errorRate = (traffic: VersionTraffic) => (traffic.requests === 0 ? 0 : (100 * traffic.errors) / traffic.requests);

/** Compares the new version's error rate with the previous version's over the same window. */
export function judge(newer: VersionTraffic, previous: VersionTraffic, thresholds: VerdictThresholds): Verdict {
  const counts = `new version ${newer.requests} request(s), previous version ${previous.requests}`;
  // Thin data proves nothing either way: a handful of requests can show 0% or 100% errors by chance.
  if (newer.requests < thresholds.minRequests || previous.requests < thresholds.minRequests) {
    return { kind: 'inconclusive', reason: `too few requests to compare (${counts}; each needs at least ${thresholds.minRequests})` };
  }
  const newRate = errorRate(newer);
  const previousRate = errorRate(previous);
  const limit = previousRate + thresholds.maxIncreasePoints;
  const rates = `new version errored on ${percent(newRate)} of ${newer.requests} requests, previous version on ${percent(previousRate)} of ${previous.requests}`;
  if (newRate > limit) {
    return { kind: 'unhealthy', reason: `${rates}; more than the allowed ${percent(limit)} (previous + ${thresholds.maxIncreasePoints} points)` };
  }
  return { kind: 'healthy', reason: `${rates}; within the allowed ${percent(limit)} (previous + ${thresholds.maxIncreasePoints} points)` };
}
