/** Requests (recorded at the edge) or jobs (recorded by the workers). */
export type SignalFamily = 'requests' | 'jobs';
/** The arm an observation belongs to: what served the request, or which fleet ran the job. */
export type SignalSide = 'primary' | 'canary';

/** Evidence is kept this long: a judge window reaches back at most an hour (plus the minute in progress). */
export const EVIDENCE_RETENTION_SECONDS = 2 * 3600;

/** Redis key of one minute of one family and side: a HASH of platform id -> packed counts (signal-counts.ts). */
export function signalKey(epochMinute: number, family: SignalFamily, side: SignalSide): string {
  return `canary-edge:signals:${epochMinute}:${family === 'requests' ? 'req' : 'job'}:${side}`;
}

/**
 * Redis key of one minute's totals (a HASH: `<side>:requests`, `<side>:errors`, `<side>:jobs`, `<side>:failed`),
 * added with every batch of signals: the chart's data, read without the per-platform detail.
 */
export function healthKey(epochMinute: number): string {
  return `canary-edge:health:${epochMinute}`;
}

/** Every key of evidence a judge window can reach at `nowMs` (minute totals and per-platform signals). */
export function evidenceKeys(nowMs: number): string[] {
  const current = Math.floor(nowMs / 60_000);
  const keys: string[] = [];
  for (let m = current - Math.ceil(EVIDENCE_RETENTION_SECONDS / 60); m <= current + 1; m++) {
    keys.push(healthKey(m));
    for (const family of ['requests', 'jobs'] as const) for (const side of ['primary', 'canary'] as const) keys.push(signalKey(m, family, side));
  }
  return keys;
}

/** Per-platform request totals are kept per UTC day, this long: today's and yesterday's make the last 24 hours. */
export const TRAFFIC_RETENTION_SECONDS = 2 * 86_400 + 3_600;

/** Redis key of one UTC day's requests per platform (a HASH of platform id -> count): what traffic steps are sized by. */
export function trafficKey(epochDay: number): string {
  return `canary-edge:traffic:${epochDay}`;
}
