import { EVIDENCE_RETENTION_SECONDS, evidenceKeys, healthKey, signalKey } from '../judge/evidence-keys.js';
import { JUDGE_RECORD_KEY, parseJudgeRecord } from '../judge/judge-record.js';
import type { JudgeRecord } from '../judge/judge-record.js';
import type { LuaScript, ScriptRunner } from '../membership/ports.js';

/** Per-origin counts of one period: responses, and errors (5xx the origin did not mark as the client's, or never answered). */
export interface OriginCounts {
  requests: number;
  errors: number;
}

/** Counts of both origins. */
export interface HealthCounts {
  primary: OriginCounts;
  canary: OriginCounts;
}

/** One minute of counts (epoch minute). */
export interface MinuteCounts extends HealthCounts {
  minute: number;
}

/** Reads minute totals and the judge's last record in one command. KEYS: record key, minute keys. */
export const HEALTH_READ_SCRIPT: LuaScript = {
  name: 'canary-health-read',
  source: `
local out = {redis.call('GET', KEYS[1]) or ''}
for k = 2, #KEYS do
  local v = redis.call('HMGET', KEYS[k], 'primary:requests', 'primary:errors', 'canary:requests', 'canary:errors')
  for f = 1, 4 do table.insert(out, v[f] or '0') end
end
return out
`,
};

/** Deletes keys in one command (KEYS: the keys). */
const DELETE_SCRIPT: LuaScript = {
  name: 'canary-health-reset',
  source: `
for k = 1, #KEYS do redis.call('DEL', KEYS[k]) end
return #KEYS
`,
};

/**
 * Drops every minute of evidence a judge window can reach (one round trip), just before a resume: the resumed canary
 * is judged on its traffic after the resume only. Without it the failures that caused the pause would still be in
 * the window and the judge would pause again on its next tick. While paused the canary gets no traffic (overrides,
 * which are never counted, aside), so nothing of the failure arrives after the reset.
 */
export async function resetHealth(redis: ScriptRunner, nowMs: number): Promise<void> {
  await redis.run(DELETE_SCRIPT, evidenceKeys(nowMs), []);
}

/** Removes one field from hashes in one command (KEYS: the hashes; ARGV[1]: the field). */
const FORGET_FIELD_SCRIPT: LuaScript = {
  name: 'canary-signals-forget',
  source: `
for k = 1, #KEYS do redis.call('HDEL', KEYS[k], ARGV[1]) end
return #KEYS
`,
};

/**
 * Drops one platform's canary evidence (requests and jobs, every minute a window can reach; one round trip), just
 * before it may be routed to the canary again (pinned in, following the rollout, released from quarantine): it is
 * judged on its traffic after that only. Without it the failures that got it quarantined would count against the
 * canary arm again the moment it stops being quarantined, and the judge would quarantine it on old evidence.
 */
export async function forgetPlatformEvidence(redis: ScriptRunner, platformId: string, nowMs: number): Promise<void> {
  const current = Math.floor(nowMs / 60_000);
  const keys: string[] = [];
  for (let m = current - Math.ceil(EVIDENCE_RETENTION_SECONDS / 60); m <= current + 1; m++) {
    for (const family of ['requests', 'jobs'] as const) keys.push(signalKey(m, family, 'canary'));
  }
  await redis.run(FORGET_FIELD_SCRIPT, keys, [platformId]);
}

/** The last `windowSeconds` of minute totals (whole minutes, the current one included) and the judge's last record. */
export async function readHealthWindow(
  redis: ScriptRunner,
  nowMs: number,
  windowSeconds: number,
): Promise<{ minutes: MinuteCounts[]; total: HealthCounts; record: JudgeRecord | null }> {
  const current = Math.floor(nowMs / 60_000);
  const first = Math.floor((nowMs - windowSeconds * 1000) / 60_000);
  const minutes: number[] = [];
  for (let m = first; m <= current; m++) minutes.push(m);
  const reply = (await redis.run(HEALTH_READ_SCRIPT, [JUDGE_RECORD_KEY, ...minutes.map(healthKey)], [])) as unknown[];
  const num = (i: number): number => Number(reply[i] ?? 0) || 0;
  const counts: MinuteCounts[] = minutes.map((minute, k) => ({
    minute,
    primary: { requests: num(1 + k * 4), errors: num(2 + k * 4) },
    canary: { requests: num(3 + k * 4), errors: num(4 + k * 4) },
  }));
  const total: HealthCounts = { primary: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } };
  for (const m of counts) {
    for (const origin of ['primary', 'canary'] as const) {
      total[origin].requests += m[origin].requests;
      total[origin].errors += m[origin].errors;
    }
  }
  return { minutes: counts, total, record: parseJudgeRecord(reply[0]) };
}

/** Error rate of counts, or null when there were no requests. */
export function errorRate(counts: OriginCounts): number | null {
  return counts.requests === 0 ? null : counts.errors / counts.requests;
}
