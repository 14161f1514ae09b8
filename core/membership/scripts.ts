import type { LuaScript } from './ports.js';

/**
 * One round trip for every resolution path: the platform, its explicit choice and the rollout state.
 * KEYS: cohort, generation, cohort fill lock, excluded, rollout, [resolver key, resolver fill lock]
 * ARGV: platform id ('' when a resolver key is given), lock token, lock ttl ms, fresh generation, refresh-ahead seconds
 * Replies: {'hit', platformId, explicit '1'|'0'|'', basisPoints, salt, paused '1'|'0'[, generation]} | {'negative'}
 *        | {'resolver-miss', locked 0|1} | {'miss', platformId, generation, locked 0|1}
 * The host applies the membership rule to a hit (the rollout bucket needs SHA-256, which Redis Lua lacks).
 * A hit carries a generation when the cached state is about to expire and this caller took the fill lock: it should
 * reload the state in the background, so steady traffic never meets an expired (cold) cohort.
 *
 * The state counts as cached only when the cohort and the exclusions are SETs and the rollout HASH exists (anything
 * else, e.g. a JSON list written by an older tool or a partly evicted state, is a miss and is replaced by the next
 * fill): a missing rollout must never read as "not paused". A missing generation is created from the caller's random
 * value rather than read as a default, so a lost key can never make an old generation current again.
 */
export const LOOKUP_SCRIPT: LuaScript = {
  name: 'canary-lookup',
  source: `
local pid = ARGV[1]
if #KEYS >= 7 then
  local v = redis.call('GET', KEYS[6])
  if not v then
    local locked = redis.call('SET', KEYS[7], ARGV[2], 'NX', 'PX', ARGV[3])
    return {'resolver-miss', locked and 1 or 0}
  end
  if v == '' then return {'negative'} end
  pid = v
end
if redis.call('TYPE', KEYS[1]).ok == 'set' and redis.call('TYPE', KEYS[4]).ok == 'set' and redis.call('EXISTS', KEYS[5]) == 1 then
  local explicit = ''
  if pid ~= '' then
    if redis.call('SISMEMBER', KEYS[1], pid) == 1 then explicit = '1'
    elseif redis.call('SISMEMBER', KEYS[4], pid) == 1 then explicit = '0' end
  end
  local r = redis.call('HMGET', KEYS[5], 'bp', 'salt', 'paused')
  local reply = {'hit', pid, explicit, r[1] or '0', r[2] or '', r[3] or '1'}
  local ttl = redis.call('TTL', KEYS[1])
  if ttl >= 0 and ttl < tonumber(ARGV[5]) then
    local gen = redis.call('GET', KEYS[2])
    if gen and redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then reply[7] = gen end
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
 * Installs the state loaded from Postgres (pinned cohort, exclusions, rollout), unless an invalidation happened since
 * the loader observed the generation (then the loaded data may predate a change and must not be cached). A missing
 * generation also refuses.
 * KEYS: cohort, generation, cohort fill lock, excluded, rollout.
 * ARGV: observed generation, ttl seconds, lock token, basis points, salt, paused '1'|'0', pinned count, pinned...,
 * excluded...
 */
export const INSTALL_COHORT_SCRIPT: LuaScript = {
  name: 'canary-install-cohort',
  source: `
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
redis.call('SADD', KEYS[1], '')
redis.call('SADD', KEYS[4], '')
local function addAll(key, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 3999, to)
    redis.call('SADD', key, unpack(ARGV, i, j))
    i = j + 1
  end
end
local pinnedEnd = 7 + tonumber(ARGV[7])
addAll(KEYS[1], 8, pinnedEnd)
addAll(KEYS[4], pinnedEnd + 1, #ARGV)
redis.call('HSET', KEYS[5], 'bp', ARGV[4], 'salt', ARGV[5], 'paused', ARGV[6])
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[5], ARGV[2])
return 1
`,
};

/**
 * Drops the cached state, moves the generation to a fresh random value and records the change on the stream,
 * atomically. KEYS: cohort, generation, flips stream, excluded, rollout.
 * ARGV: platform id ('' for a change of every platform: rollout, pause), '1'|'0'|'' (the platform's new choice),
 * stream max length, fresh generation.
 */
export const INVALIDATE_SCRIPT: LuaScript = {
  name: 'canary-invalidate',
  source: `
redis.call('DEL', KEYS[1], KEYS[4], KEYS[5])
redis.call('SET', KEYS[2], ARGV[4])
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[3], '*', 'platformId', ARGV[1], 'canary', ARGV[2], 'generation', ARGV[4])
return 1
`,
};

/**
 * Caches one resolver entry (flow or API key -> platform id, '' for unknown) and releases its fill lock.
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
