import type { GuardSettings } from './guard-rule.js';
import { readHealthWindow } from './health-window.js';
import type { HealthCounts, MinuteCounts } from './health-window.js';
import type { ScriptRunner } from '../membership/ports.js';

/** The guard's window when no guard has reported its settings yet (origin default CANARY_GUARD_WINDOW_SECONDS). */
export const DEFAULT_WINDOW_SECONDS = 300;

/** The health counts over the guard's own window, with its settings and last verdict (what operators look at). */
export interface GuardWindow {
  windowSeconds: number;
  minutes: MinuteCounts[];
  total: HealthCounts;
  settings: GuardSettings | null;
  lastVerdict: unknown;
}

/** The guard's settings, as its last record reported them (null before any guard ran). */
export function guardSettingsOf(lastVerdict: unknown): GuardSettings | null {
  const settings = typeof lastVerdict === 'object' && lastVerdict !== null ? Reflect.get(lastVerdict, 'settings') : null;
  if (typeof settings !== 'object' || settings === null) return null;
  const s = settings as Record<string, unknown>;
  const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    enabled: s.enabled === true,
    intervalSeconds: n(s.intervalSeconds),
    windowSeconds: n(s.windowSeconds) || DEFAULT_WINDOW_SECONDS,
    minRequests: n(s.minRequests),
    maxErrorRate: n(s.maxErrorRate),
  };
}

/**
 * Reads the counts over the window the guard judges: the guard reports its settings with each verdict, so a first read
 * over the default window learns them, and a second one is needed only when the guard's window differs.
 */
export async function readGuardWindow(redis: ScriptRunner, nowMs: number): Promise<GuardWindow> {
  const peek = await readHealthWindow(redis, nowMs, DEFAULT_WINDOW_SECONDS);
  const settings = guardSettingsOf(peek.lastVerdict);
  const windowSeconds = settings?.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const read = windowSeconds === DEFAULT_WINDOW_SECONDS ? peek : await readHealthWindow(redis, nowMs, windowSeconds);
  return { windowSeconds, minutes: read.minutes, total: read.total, settings: guardSettingsOf(read.lastVerdict) ?? settings, lastVerdict: read.lastVerdict };
}
