import { errorRate } from './health-window.js';
import type { HealthCounts } from './health-window.js';

/** The guard's settings (origin env CANARY_GUARD_*). */
export interface GuardSettings {
  enabled: boolean;
  intervalSeconds: number;
  windowSeconds: number;
  minRequests: number;
  maxErrorRate: number;
}

/** What one tick concluded, with its evidence. */
export type GuardVerdict =
  | { verdict: 'healthy' | 'thin-data'; canaryRate: number | null; primaryRate: number | null }
  | { verdict: 'unhealthy'; canaryRate: number; primaryRate: number | null };

/**
 * The guard's rule (docs/architecture.md §7): no verdict on thin data (fewer than `minRequests` canary requests over
 * the window); otherwise unhealthy when the canary's error rate is above both the absolute ceiling and twice the
 * primary's (a primary without traffic counts as error-free).
 */
export function judgeHealth(counts: HealthCounts, settings: Pick<GuardSettings, 'minRequests' | 'maxErrorRate'>): GuardVerdict {
  const canaryRate = errorRate(counts.canary);
  const primaryRate = errorRate(counts.primary);
  if (counts.canary.requests < settings.minRequests || canaryRate === null) return { verdict: 'thin-data', canaryRate, primaryRate };
  if (canaryRate > settings.maxErrorRate && canaryRate > 2 * (primaryRate ?? 0)) return { verdict: 'unhealthy', canaryRate, primaryRate };
  return { verdict: 'healthy', canaryRate, primaryRate };
}
