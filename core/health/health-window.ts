import type { LuaScript, ScriptRunner } from '../membership/ports.js';

/** Per-origin counts of one period: responses, and errors (5xx, or never answered). */
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

/** Redis key of one minute's counts (a HASH: primary:requests, primary:errors, canary:requests, canary:errors). */
export function healthKey(epochMinute: number): string {
  return `canary-edge:health:${epochMinute}`;
}

/** Redis key of the guard's last verdict (JSON). */
export const GUARD_VERDICT_KEY = 'canary-edge:guard:last-verdict';

/** Minutes of counts are kept this long: a guard window can reach back at most this far. */
export const HEALTH_RETENTION_SECONDS = 2 * 3600;

/**
 * Adds counts to minute hashes in one command. KEYS: minute keys. ARGV: ttl, then four increments per key in the
 * order primary:requests, primary:errors, canary:requests, canary:errors (zeros skipped).
 */
export const HEALTH_RECORD_SCRIPT: LuaScript = {
  name: 'canary-health-record',
  source: `
local fields = {'primary:requests', 'primary:errors', 'canary:requests', 'canary:errors'}
for k = 1, #KEYS do
  for f = 1, 4 do
    local n = tonumber(ARGV[1 + (k - 1) * 4 + f])
    if n > 0 then redis.call('HINCRBY', KEYS[k], fields[f], n) end
  end
  redis.call('EXPIRE', KEYS[k], ARGV[1])
end
return 1
`,
};

/** Reads minute hashes and the guard's last verdict in one command. KEYS: verdict key, minute keys. */
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

/** Deletes minute hashes in one command. KEYS: the minute keys. */
export const HEALTH_RESET_SCRIPT: LuaScript = {
  name: 'canary-health-reset',
  source: `
for k = 1, #KEYS do redis.call('DEL', KEYS[k]) end
return #KEYS
`,
};

/**
 * Drops every minute of counts a guard window can reach (one round trip), just before a resume: the resumed canary is
 * judged on its traffic after the resume only. Without it the failures that caused the pause would still be in the
 * window (up to the window plus a minute, as minutes are whole) and the guard would pause again on its next tick.
 * While paused the canary gets no traffic (overrides aside), so nothing of the failure arrives after the reset.
 */
export async function resetHealth(redis: ScriptRunner, nowMs: number): Promise<void> {
  const current = Math.floor(nowMs / 60_000);
  const keys: string[] = [];
  for (let m = current - Math.ceil(HEALTH_RETENTION_SECONDS / 60); m <= current + 1; m++) keys.push(healthKey(m));
  await redis.run(HEALTH_RESET_SCRIPT, keys, []);
}

/** Adds a batch of minute counts to Redis (one round trip). */
export async function recordHealth(redis: ScriptRunner, batch: readonly MinuteCounts[]): Promise<void> {
  if (batch.length === 0) return;
  const args = [String(HEALTH_RETENTION_SECONDS)];
  for (const m of batch) args.push(...[m.primary.requests, m.primary.errors, m.canary.requests, m.canary.errors].map(String));
  await redis.run(HEALTH_RECORD_SCRIPT, batch.map((m) => healthKey(m.minute)), args);
}

/** The last `windowSeconds` of counts (whole minutes, the current one included) and the guard's last verdict. */
export async function readHealthWindow(
  redis: ScriptRunner,
  nowMs: number,
  windowSeconds: number,
): Promise<{ minutes: MinuteCounts[]; total: HealthCounts; lastVerdict: unknown }> {
  const current = Math.floor(nowMs / 60_000);
  const first = Math.floor((nowMs - windowSeconds * 1000) / 60_000);
  const minutes: number[] = [];
  for (let m = first; m <= current; m++) minutes.push(m);
  const reply = (await redis.run(HEALTH_READ_SCRIPT, [GUARD_VERDICT_KEY, ...minutes.map(healthKey)], [])) as unknown[];
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
  let lastVerdict: unknown = null;
  const raw = reply[0];
  if (typeof raw === 'string' && raw !== '') {
    try {
      lastVerdict = JSON.parse(raw) as unknown;
    } catch {
      lastVerdict = null;
    }
  }
  return { minutes: counts, total, lastVerdict };
}

/** Error rate of counts, or null when there were no requests. */
export function errorRate(counts: OriginCounts): number | null {
  return counts.requests === 0 ? null : counts.errors / counts.requests;
}
