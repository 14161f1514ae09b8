import type { LuaScript, ScriptRunner } from '../membership/ports.js';
import { isPlatformId } from '../platform-id.js';
import { LATENCY_BUCKETS, addInto, countOne, emptyCounts, encodeCounts } from './signal-counts.js';
import type { SignalCounts } from './signal-counts.js';

import { EVIDENCE_RETENTION_SECONDS, TRAFFIC_RETENTION_SECONDS, healthKey, signalKey, trafficKey } from './evidence-keys.js';
import type { SignalFamily, SignalSide } from './evidence-keys.js';

export type { SignalFamily, SignalSide };

/** Pseudo-platforms: requests that named none, and platforms beyond what one batch keeps apart. Never quarantined. */
export const NO_PLATFORM_SIGNAL = ':none';
export const OTHER_PLATFORMS_SIGNAL = ':other';

/** The health chart's per-minute totals of a family and side (fields of the health HASH, health-window.ts). */
function totalFields(family: SignalFamily, side: SignalSide): [string, string] {
  return family === 'requests' ? [`${side}:requests`, `${side}:errors`] : [`${side}:jobs`, `${side}:failed`];
}

/**
 * Adds a batch of packed counts (signal-counts.ts) to the minute hashes, merging each platform's field, the totals to
 * the minute's health hash, and a platform's requests to its day's traffic hash, in one round trip. KEYS: the signal
 * hashes, the health hashes, then the traffic hashes. ARGV: signal ttl, signal-key count, health-key count, traffic
 * ttl, then for each entry: signal-key index, health-key index, traffic-key index (0: none, jobs), platform id,
 * packed counts, n field, bad field. A field that is not a packed record (garbage) is replaced, not added to.
 */
export const SIGNALS_RECORD_SCRIPT: LuaScript = {
  name: 'canary-signals-record',
  source: `
local BUCKETS = ${LATENCY_BUCKETS}
-- bad, histogram (1-based, BUCKETS long) and n of a packed record; nil for anything else
local function decode(text)
  if not text or not string.match(text, '^%d+[%d.]*$') then return nil end
  local parts = {}
  for v in string.gmatch(text, '%d+') do parts[#parts + 1] = tonumber(v) end
  local hist = {}
  for b = 1, BUCKETS do hist[b] = 0 end
  local first = parts[2]
  if first and (#parts < 3 or first + #parts - 2 > BUCKETS) then return nil end
  local n = 0
  for j = 3, #parts do
    hist[first + j - 2] = parts[j]
    n = n + parts[j]
  end
  if parts[1] > n then return nil end
  return parts[1], hist, n
end
local function encode(bad, hist)
  local first, last = nil, nil
  for b = 1, BUCKETS do
    if hist[b] > 0 then
      first = first or b
      last = b
    end
  end
  if not first then return string.format('%d', bad) end
  local out = {string.format('%d', bad), string.format('%d', first - 1)}
  for b = first, last do out[#out + 1] = string.format('%d', hist[b]) end
  return table.concat(out, '.')
end
local ttl = ARGV[1]
local signalKeys = tonumber(ARGV[2])
local healthKeys = tonumber(ARGV[3])
local trafficTtl = ARGV[4]
local i = 5
while i <= #ARGV do
  local key = KEYS[tonumber(ARGV[i])]
  local health = KEYS[signalKeys + tonumber(ARGV[i + 1])]
  local traffic = tonumber(ARGV[i + 2])
  local field = ARGV[i + 3]
  local addedBad, addedHist, addedN = decode(ARGV[i + 4])
  if addedBad then
    local bad, hist = decode(redis.call('HGET', key, field))
    if bad then
      bad = bad + addedBad
      for b = 1, BUCKETS do hist[b] = hist[b] + addedHist[b] end
    else
      bad, hist = addedBad, addedHist
    end
    redis.call('HSET', key, field, encode(bad, hist))
    if addedN > 0 then redis.call('HINCRBY', health, ARGV[i + 5], addedN) end
    if addedBad > 0 then redis.call('HINCRBY', health, ARGV[i + 6], addedBad) end
    if traffic > 0 and addedN > 0 then redis.call('HINCRBY', KEYS[signalKeys + healthKeys + traffic], field, addedN) end
  end
  i = i + 7
end
for k = 1, signalKeys + healthKeys do redis.call('EXPIRE', KEYS[k], ttl) end
for k = signalKeys + healthKeys + 1, #KEYS do redis.call('EXPIRE', KEYS[k], trafficTtl) end
return 1
`,
};

/** Most platforms one batch keeps apart per minute, family and side; the rest are counted as OTHER_PLATFORMS_SIGNAL. */
const MAX_PLATFORMS_PER_CELL = 10_000;

/**
 * Per-process (or per-isolate) counts, by minute, family, side and platform, sent in one script call. The caller
 * decides when to flush (the edge: at most once a second under `waitUntil`; the workers: on a timer), so recording
 * never adds a round trip to a request or a job. A platform id outside the platform-id rule is counted as
 * OTHER_PLATFORMS_SIGNAL: no tenant-controlled string becomes a hash field unchecked.
 */
export class SignalBatch {
  readonly #cells = new Map<string, { minute: number; family: SignalFamily; side: SignalSide; platforms: Map<string, SignalCounts> }>();

  /** Counts one observation. `platformId` null: a request that named no platform. */
  record(family: SignalFamily, side: SignalSide, platformId: string | null, bad: boolean, ms: number, nowMs: number): void {
    const minute = Math.floor(nowMs / 60_000);
    const cellKey = `${minute}|${family}|${side}`;
    let cell = this.#cells.get(cellKey);
    if (cell === undefined) {
      cell = { minute, family, side, platforms: new Map() };
      this.#cells.set(cellKey, cell);
    }
    let id = platformId === null ? NO_PLATFORM_SIGNAL : isPlatformId(platformId) ? platformId : OTHER_PLATFORMS_SIGNAL;
    if (!cell.platforms.has(id) && cell.platforms.size >= MAX_PLATFORMS_PER_CELL) id = OTHER_PLATFORMS_SIGNAL;
    let counts = cell.platforms.get(id);
    if (counts === undefined) {
      counts = emptyCounts();
      cell.platforms.set(id, counts);
    }
    countOne(counts, bad, ms);
  }

  get empty(): boolean {
    return this.#cells.size === 0;
  }

  /** Everything counted so far, forgotten here (the caller sends it). */
  take(): SignalCell[] {
    const cells = [...this.#cells.values()].map((c) => ({ minute: c.minute, family: c.family, side: c.side, platforms: c.platforms }));
    this.#cells.clear();
    return cells;
  }
}

/** One minute of one family and side, by platform. */
export interface SignalCell {
  minute: number;
  family: SignalFamily;
  side: SignalSide;
  platforms: Map<string, SignalCounts>;
}

/** Sends cells to Redis in one round trip (nothing when there is nothing). */
export async function recordSignals(redis: ScriptRunner, cells: readonly SignalCell[]): Promise<void> {
  const signalKeys: string[] = [];
  const healthKeys: string[] = [];
  const trafficKeys: string[] = [];
  const indexIn = (list: string[], key: string): number => {
    const at = list.indexOf(key);
    return at === -1 ? list.push(key) : at + 1;
  };
  const args: string[] = [String(EVIDENCE_RETENTION_SECONDS), '', '', String(TRAFFIC_RETENTION_SECONDS)];
  for (const cell of cells) {
    if (cell.platforms.size === 0) continue;
    signalKeys.push(signalKey(cell.minute, cell.family, cell.side));
    const health = indexIn(healthKeys, healthKey(cell.minute));
    // Requests also add up per platform and day: the traffic a plan's traffic steps are sized by.
    const traffic = cell.family === 'requests' ? indexIn(trafficKeys, trafficKey(Math.floor(cell.minute / 1440))) : 0;
    const [nField, badField] = totalFields(cell.family, cell.side);
    for (const [platformId, counts] of cell.platforms) {
      args.push(String(signalKeys.length), String(health), String(traffic), platformId, encodeCounts(counts), nField, badField);
    }
  }
  if (signalKeys.length === 0) return;
  args[1] = String(signalKeys.length);
  args[2] = String(healthKeys.length);
  await redis.run(SIGNALS_RECORD_SCRIPT, [...signalKeys, ...healthKeys, ...trafficKeys], args);
}

/** Merges counts of the same platform (used when reading a window). */
export function mergeCounts(into: Map<string, SignalCounts>, platformId: string, counts: SignalCounts): void {
  const known = into.get(platformId);
  if (known === undefined) into.set(platformId, { n: counts.n, bad: counts.bad, hist: [...counts.hist] });
  else addInto(known, counts);
}
