import type { LuaScript } from './ports.js';

/**
 * The membership scripts. KEYS of the cached state, always in this order (keys.ts STATE_KEYS): cohort, generation,
 * cohort fill lock, excluded, rollout, choice versions. Every reply is decoded by name in reply-decoding.ts.
 *
 * The cached state: the pinned cohort (SET), the exclusions (SET), the rollout (HASH bp, salt, paused) and the versions
 * of recent explicit choices (HASH platform id -> "<audit id>:<in|out|none>:<redis ms>"; like the generation it has
 * no TTL, so a volatile-* eviction policy never drops it, and each install prunes what it no longer needs). It counts
 * as cached only when both SETs and the rollout HASH exist (each SET holds the loaded marker, so an empty one exists):
 * a partly evicted state is a miss, never "not paused".
 *
 * Two kinds of change, two rules:
 * - a change of every platform (rollout, pause, resume) drops the state and moves the generation to a fresh random
 *   value; a fill installs only under the generation it observed before reading Postgres, so data read before such a
 *   change is never cached after it;
 * - a one-platform change (pin, exclude, follow) is applied to the cached state in place, in O(1), and recorded with its
 *   version (the audit id of its change, ordered per platform by the row lock). A change older than the recorded one is
 *   ignored, and a fill merges every recorded change newer than what its snapshot saw, so neither a late, reordered
 *   change nor a fill that read Postgres before a change can ever install older data over it. Flips therefore never
 *   cost a cohort reload, and never make a refresh-ahead fail.
 */

/**
 * One round trip for every resolution path: the platform, its explicit choice and the rollout state.
 * KEYS: the six state keys, then [resolver key, resolver fill lock] for a flow or API key, then the pin cutoffs.
 * ARGV: platform id (NO_PLATFORM with a resolver key, or for a request that names none), lock token, lock ttl ms,
 * fresh generation, refresh-ahead seconds, the resolver's NO_PLATFORM value.
 * Replies: {'hit', platformId, explicit 'in'|'out'|'none', basisPoints, salt, paused '1'|'0', overridesRevokedBeforeMs,
 *          pinCutoffMs ('0': none), refreshGeneration ('': none)}
 *        | {'negative'} | {'resolver-miss', locked 0|1} | {'miss', platformId, generation, locked 0|1}
 * The host applies the membership rule to a hit (the rollout bucket needs SHA-256, which Redis Lua lacks).
 * A hit carries a generation when the cached state is about to expire and this caller took the fill lock: it should
 * reload the state in the background, so steady traffic never meets an expired (cold) cohort.
 * A missing generation is created from the caller's random value rather than read as a default, so a lost key can
 * never make an old generation current again.
 */
export const LOOKUP_SCRIPT: LuaScript = {
  name: 'canary-lookup',
  source: `
local pid = ARGV[1]
local cutoffs = KEYS[#KEYS]
if #KEYS >= 9 then
  local v = redis.call('GET', KEYS[7])
  if not v then
    local locked = redis.call('SET', KEYS[8], ARGV[2], 'NX', 'PX', ARGV[3])
    return {'resolver-miss', locked and 1 or 0}
  end
  -- '' is how the previous build cached a known unknown (entries live 30 s).
  if v == ARGV[6] or v == '' then return {'negative'} end
  pid = v
end
if redis.call('TYPE', KEYS[1]).ok == 'set' and redis.call('TYPE', KEYS[4]).ok == 'set' and redis.call('EXISTS', KEYS[5]) == 1 then
  local explicit = 'none'
  if redis.call('SISMEMBER', KEYS[1], pid) == 1 then explicit = 'in'
  elseif redis.call('SISMEMBER', KEYS[4], pid) == 1 then explicit = 'out' end
  local r = redis.call('HMGET', KEYS[5], 'bp', 'salt', 'paused', 'revoked')
  local reply = {'hit', pid, explicit, r[1] or '0', r[2] or '', r[3] or '1', r[4] or '0', redis.call('HGET', cutoffs, pid) or '0', ''}
  local ttl = redis.call('TTL', KEYS[1])
  if ttl >= 0 and ttl < tonumber(ARGV[5]) then
    local gen = redis.call('GET', KEYS[2])
    if gen and redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then reply[9] = gen end
  end
  return reply
end
redis.call('SET', KEYS[2], ARGV[4], 'NX')
local gen = redis.call('GET', KEYS[2])
local locked = redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3])
return {'miss', pid, gen, locked and 1 or 0}
`,
};

/**
 * Installs the state loaded from Postgres (pinned cohort, exclusions, rollout), unless a change of every platform
 * happened since the loader observed the generation (a missing generation refuses too). One-platform changes recorded
 * in the versions HASH that are newer than what the snapshot saw of their platform are applied over the snapshot, and
 * records older than `keep ms` are pruned (the snapshot saw them: Postgres committed them before Redis recorded them).
 * KEYS: the six state keys.
 * ARGV: observed generation, ttl seconds, lock token, basis points, salt, paused '1'|'0', loaded marker, keep ms,
 * pinned count, excluded count, overrides revoked before (ms), pinned..., excluded..., then (platform id, version)
 * pairs of the snapshot's recent choices.
 * Replies: 1 installed | 0 refused.
 */
export const INSTALL_COHORT_SCRIPT: LuaScript = {
  name: 'canary-install-cohort',
  source: `
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local pinnedEnd = 11 + tonumber(ARGV[9])
local excludedEnd = pinnedEnd + tonumber(ARGV[10])
local seen = {}
for i = excludedEnd + 1, #ARGV, 2 do seen[ARGV[i]] = tonumber(ARGV[i + 1]) end
local newer = {}
local recorded = redis.call('HGETALL', KEYS[6])
for i = 1, #recorded, 2 do
  local v, choice, at = string.match(recorded[i + 1], '^(%d+):(%a+):(%d+)$')
  if v and tonumber(v) > (seen[recorded[i]] or 0) and nowMs - tonumber(at) <= tonumber(ARGV[8]) then
    table.insert(newer, {recorded[i], choice, recorded[i + 1]})
  end
end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6])
redis.call('SADD', KEYS[1], ARGV[7])
redis.call('SADD', KEYS[4], ARGV[7])
local function addAll(key, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 3999, to)
    redis.call('SADD', key, unpack(ARGV, i, j))
    i = j + 1
  end
end
addAll(KEYS[1], 12, pinnedEnd)
addAll(KEYS[4], pinnedEnd + 1, excludedEnd)
for i = excludedEnd + 1, #ARGV, 2 do
  local pid = ARGV[i]
  local choice = 'none'
  if redis.call('SISMEMBER', KEYS[1], pid) == 1 then choice = 'in' elseif redis.call('SISMEMBER', KEYS[4], pid) == 1 then choice = 'out' end
  redis.call('HSET', KEYS[6], pid, ARGV[i + 1] .. ':' .. choice .. ':' .. nowMs)
end
for _, n in ipairs(newer) do
  local pid, choice = n[1], n[2]
  if choice == 'in' then redis.call('SADD', KEYS[1], pid) else redis.call('SREM', KEYS[1], pid) end
  if choice == 'out' then redis.call('SADD', KEYS[4], pid) else redis.call('SREM', KEYS[4], pid) end
  redis.call('HSET', KEYS[6], pid, n[3])
end
redis.call('HSET', KEYS[5], 'bp', ARGV[4], 'salt', ARGV[5], 'paused', ARGV[6], 'revoked', ARGV[11])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[5], ARGV[2])
return 1
`,
};

/**
 * A change of every platform (rollout, pause, resume): drops the cached state, moves the generation to a fresh random
 * value and records the change on the flips stream, atomically.
 * KEYS: the six state keys, then the flips stream. ARGV: stream max length, fresh generation.
 */
export const INVALIDATE_ALL_SCRIPT: LuaScript = {
  name: 'canary-invalidate-all',
  source: `
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5], KEYS[6])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[1], '*', 'scope', 'all', 'generation', ARGV[2])
return 1
`,
};

/**
 * A change of a state field every lookup reads but no platform's membership depends on (the instant before which
 * override tokens are revoked): written into the cached rollout HASH in place, and the generation moved so a fill
 * that read Postgres before the change cannot install the old value. Nothing is appended to the flips stream (no job
 * has to move). KEYS: the six state keys. ARGV: field, value, fresh generation.
 */
export const SET_STATE_FIELD_SCRIPT: LuaScript = {
  name: 'canary-set-state-field',
  source: `
redis.call('SET', KEYS[2], ARGV[3])
if redis.call('EXISTS', KEYS[5]) == 1 then redis.call('HSET', KEYS[5], ARGV[1], ARGV[2]) end
return 1
`,
};

/**
 * A one-platform change, applied in place: records it with its version unless a newer one is recorded already, moves
 * the platform between the cached SETs when the state is cached, and records the change on the flips stream.
 * A quarantine also cuts the platform's skew-protection pins at this instant; a change that may send it back to the
 * canary (pin, follow) lifts the cut.
 * KEYS: the six state keys, then the flips stream, then the pin cutoffs.
 * ARGV: platform id, choice 'in'|'out'|'none', version (audit id), stream max length, pins 'cut'|'keep'.
 * Replies: 1 applied | 0 ignored (an older change than the one recorded).
 */
export const APPLY_CHOICE_SCRIPT: LuaScript = {
  name: 'canary-apply-choice',
  source: `
local pid, choice, version = ARGV[1], ARGV[2], tonumber(ARGV[3])
local recorded = redis.call('HGET', KEYS[6], pid)
local known = recorded and tonumber(string.match(recorded, '^(%d+):')) or 0
local applied = 0
if version > known then
  local t = redis.call('TIME')
  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  redis.call('HSET', KEYS[6], pid, ARGV[3] .. ':' .. choice .. ':' .. nowMs)
  if redis.call('TYPE', KEYS[1]).ok == 'set' and redis.call('TYPE', KEYS[4]).ok == 'set' then
    if choice == 'in' then redis.call('SADD', KEYS[1], pid) else redis.call('SREM', KEYS[1], pid) end
    if choice == 'out' then redis.call('SADD', KEYS[4], pid) else redis.call('SREM', KEYS[4], pid) end
  end
  if KEYS[8] then
    if ARGV[5] == 'cut' then redis.call('HSET', KEYS[8], pid, nowMs) elseif choice ~= 'out' then redis.call('HDEL', KEYS[8], pid) end
  end
  applied = 1
end
redis.call('XADD', KEYS[7], 'MAXLEN', '~', ARGV[4], '*', 'scope', 'platform', 'platformId', pid, 'choice', choice)
return applied
`,
};

/**
 * Caches one resolver entry (flow or API key -> platform id, NO_PLATFORM for unknown) and releases its fill lock.
 * KEYS: resolver key, resolver fill lock. ARGV: value, ttl seconds, lock token.
 */
export const CACHE_RESOLVER_SCRIPT: LuaScript = {
  name: 'canary-cache-resolver',
  source: `
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
return 1
`,
};

/** Releases a fill lock if the caller still owns it (a failed fill must not make others wait out the lock). */
export const RELEASE_LOCK_SCRIPT: LuaScript = {
  name: 'canary-release-lock',
  source: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
};
