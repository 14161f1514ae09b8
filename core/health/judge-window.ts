import type { JudgeRecord } from '../judge/judge-record.js';
import type { ScriptRunner } from '../membership/ports.js';
import { readHealthWindow } from './health-window.js';
import type { HealthCounts, MinuteCounts } from './health-window.js';

/** The judge's window when no judge has reported its settings yet (origin default CANARY_GUARD_WINDOW_SECONDS). */
export const DEFAULT_WINDOW_SECONDS = 300;

/** The minute totals over the judge's own window, with its last record (what operators look at). */
export interface JudgeWindow {
  windowSeconds: number;
  minutes: MinuteCounts[];
  total: HealthCounts;
  record: JudgeRecord | null;
}

/**
 * Reads the totals over the window the judge judges: the judge reports its settings with each record, so a first read
 * over the default window learns them, and a second one is needed only when the judge's window differs.
 */
export async function readJudgeWindow(redis: ScriptRunner, nowMs: number): Promise<JudgeWindow> {
  const peek = await readHealthWindow(redis, nowMs, DEFAULT_WINDOW_SECONDS);
  const windowSeconds = peek.record?.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const read = windowSeconds === DEFAULT_WINDOW_SECONDS ? peek : await readHealthWindow(redis, nowMs, windowSeconds);
  return { windowSeconds, minutes: read.minutes, total: read.total, record: read.record ?? peek.record };
}
