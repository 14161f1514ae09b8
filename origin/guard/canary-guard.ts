import { judgeHealth } from '../../core/health/guard-rule.js';
import type { GuardSettings } from '../../core/health/guard-rule.js';
import { GUARD_VERDICT_KEY, errorRate, readHealthWindow } from '../../core/health/health-window.js';
import type { CanaryControl, ScriptRunner } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';

/** Name (and scheduler id) of the guard's repeatable job on `system-job-queue`. */
export const CANARY_GUARD = 'canary-guard';

/** What the guard keeps of its last tick (read by GET /v1/admin/canary/health and the admin page). */
export interface GuardRecord {
  at: string;
  verdict: 'healthy' | 'thin-data' | 'unhealthy' | 'paused' | 'disabled';
  /** `paused`: this tick paused canary routing. */
  action: 'paused' | 'none';
  windowSeconds: number;
  counts: { primary: { requests: number; errors: number }; canary: { requests: number; errors: number } } | null;
  rates: { primary: number | null; canary: number | null } | null;
  settings: GuardSettings;
}

export interface CanaryGuardDeps {
  redis: ScriptRunner;
  /** Writes the guard's record (a plain SET with a TTL). */
  saveRecord(json: string): Promise<void>;
  control: CanaryControl;
  settings: GuardSettings;
  logger: Logger;
}

function percent(rate: number | null): string {
  return rate === null ? 'n/a' : `${(rate * 100).toFixed(2)}%`;
}

/**
 * One guard tick: judge the canary over the window (docs/architecture.md §7) and, when it is unhealthy, pause canary
 * routing through the same operator-plane path as the admin pause, audited by `guard` with the evidence. It never
 * resumes by itself; a pause already in place is left alone (and not audited twice).
 */
export async function runGuardTick(deps: CanaryGuardDeps, tick: { nowMs?: number; jobId?: string } = {}): Promise<GuardRecord> {
  const { settings, logger } = deps;
  const nowMs = tick.nowMs ?? Date.now();
  const base = { at: new Date(nowMs).toISOString(), windowSeconds: settings.windowSeconds, settings };
  let record: GuardRecord;
  if (!settings.enabled) {
    record = { ...base, verdict: 'disabled', action: 'none', counts: null, rates: null };
  } else {
    // The pause state first, then the window: a resume drops the window's counts before it commits, so a tick that
    // saw "not paused" reads a window the resume already reset, and one that saw "paused" leaves it alone. Read the
    // other way round, a resume landing between the two reads would be paused again on the failures it reset.
    const { paused } = await deps.control.rollout();
    const { total } = await readHealthWindow(deps.redis, nowMs, settings.windowSeconds);
    const rates = { primary: errorRate(total.primary), canary: errorRate(total.canary) };
    const verdict = judgeHealth(total, settings);
    if (paused) {
      record = { ...base, verdict: 'paused', action: 'none', counts: total, rates };
    } else if (verdict.verdict === 'unhealthy') {
      const evidence = { windowSeconds: settings.windowSeconds, counts: total, rates, minRequests: settings.minRequests, maxErrorRate: settings.maxErrorRate };
      const reason =
        `health guard: canary error rate ${percent(rates.canary)} over ${settings.windowSeconds}s (${total.canary.errors}/${total.canary.requests}) ` +
        `is above ${percent(settings.maxErrorRate)} and above twice the primary's ${percent(rates.primary)}`;
      const applied = await deps.control.setPaused(true, { actor: 'guard', reason }, { evidence, onlyIfChanged: true });
      if (applied.value.changed) logger.error('canary guard paused canary routing', { reason, ...evidence });
      if (!applied.invalidated) logger.error('canary guard paused routing in Postgres but could not invalidate the cache; edges follow within 60 s');
      record = { ...base, verdict: 'unhealthy', action: applied.value.changed ? 'paused' : 'none', counts: total, rates };
    } else {
      record = { ...base, verdict: verdict.verdict, action: 'none', counts: total, rates };
    }
  }
  await deps.saveRecord(JSON.stringify(record));
  logger.info('canary guard tick', { jobId: tick.jobId ?? null, at: record.at, verdict: record.verdict, action: record.action, canaryRate: record.rates?.canary ?? null, canaryRequests: record.counts?.canary.requests ?? 0 });
  return record;
}

/** The guard's record key, for hosts that write it themselves. */
export { GUARD_VERDICT_KEY };
