import type { LuaScript, ScriptRunner } from '../membership/ports.js';
import type { MetricName, MetricVerdict } from './judge.js';
import type { JudgeSettings } from './judge-settings.js';

/**
 * The judge's last tick, as operators read it (GET /v1/admin/canary/health, the page, the CLI): the one place that
 * declares its shape, its Redis key and lifetime, how it is written and how it is read back.
 */
export interface JudgeRecord {
  at: string;
  /** The judge's verdict; `paused`: routing was paused (nothing to judge); `error`: a store was unreachable. */
  verdict: 'pass' | 'fail' | 'inconclusive' | 'paused' | 'disabled' | 'error';
  /** What this tick did about it. */
  action: 'none' | 'paused' | 'quarantined';
  /** The platforms this tick quarantined. */
  quarantined: string[];
  /** Why nothing was decided (a store down, garbage counters), or null. */
  problem: string | null;
  windowSeconds: number;
  settings: JudgeSettings;
  metrics: Record<MetricName, MetricVerdict> | null;
}

/** Redis key of the judge's last record (JSON). */
export const JUDGE_RECORD_KEY = 'canary-edge:judge:last';
/** The record outlives any tick interval by far; a judge that stopped ticking shows its last record for a day. */
export const JUDGE_RECORD_TTL_SECONDS = 24 * 3600;

/** Sets a key to a value with a TTL (KEYS: key; ARGV: value, ttl seconds). */
const SET_RECORD_SCRIPT: LuaScript = {
  name: 'canary-judge-record',
  source: `redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`,
};

/** Writes the record (one round trip). */
export async function writeJudgeRecord(redis: ScriptRunner, record: JudgeRecord): Promise<void> {
  await redis.run(SET_RECORD_SCRIPT, [JUDGE_RECORD_KEY], [JSON.stringify(record), String(JUDGE_RECORD_TTL_SECONDS)]);
}

const VERDICTS = new Set(['pass', 'fail', 'inconclusive', 'paused', 'disabled', 'error']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The record from its stored JSON, or null for no record, garbage, or a record of another build's shape. */
export function parseJudgeRecord(text: unknown): JudgeRecord | null {
  if (typeof text !== 'string' || text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    return null;
  }
  if (!isRecord(value) || typeof value.at !== 'string' || typeof value.verdict !== 'string' || !VERDICTS.has(value.verdict)) return null;
  if (!isRecord(value.settings) || typeof value.windowSeconds !== 'number' || !Array.isArray(value.quarantined)) return null;
  return value as unknown as JudgeRecord;
}
