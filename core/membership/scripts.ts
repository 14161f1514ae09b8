import type { LuaScript } from './ports.js';

/**
 * One round trip for every resolution path.
 * KEYS: cohort, generation, cohort fill lock, [resolver key, resolver fill lock]
 * ARGV: platform id ('' when a resolver key is given), lock token, lock ttl ms, fresh generation, refresh-ahead seconds
 * Replies: {'hit', platformId, 0|1[, generation]} | {'negative'} | {'resolver-miss', locked 0|1}
 *        | {'miss', platformId, generation, locked 0|1}
 * A hit carries a generation when the cached cohort is about to expire and this caller took the fill lock: it should
 * reload the cohort in the background, so steady traffic never meets an expired (cold) cohort.
 *
 * The cohort counts as cached only when the key holds a SET (anything else, e.g. a JSON list written by an older
 * tool, is treated as a miss and replaced by the next fill). A missing generation is created from the caller's
 * random value rather than read as a default, so a lost key can never make an old generation current again.
 */
export const LOOKUP_SCRIPT: LuaScript = {
  name: 'canary-lookup',
  source: `
local pid = ARGV[1]
if #KEYS >= 5 then
  local v = redis.call('GET', KEYS[4])
  if not v then
    local locked = redis.call('SET', KEYS[5], ARGV[2], 'NX', 'PX', ARGV[3])
    return {'resolver-miss', locked and 1 or 0}
  end
  if v == '' then return {'negative'} end
  pid = v
end
if redis.call('TYPE', KEYS[1]).ok == 'set' then
  local member = 0
  if pid ~= '' then member = redis.call('SISMEMBER', KEYS[1], pid) end
  local ttl = redis.call('TTL', KEYS[1])
  if ttl >= 0 and ttl < tonumber(ARGV[5]) then
    local gen = redis.call('GET', KEYS[2])
    if gen and redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then return {'hit', pid, member, gen} end
  end
  return {'hit', pid, member}
end
redis.call('SET', KEYS[2], ARGV[4], 'NX')
local gen = redis.call('GET', KEYS[2])
local locked = redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3])
return {'miss', pid, gen, locked and 1 or 0}
`,
};

/**
 * Installs a cohort loaded from Postgres, unless an invalidation happened since the loader observed the generation
 * (then the loaded data may predate a flip and must not be cached). A missing generation also refuses.
 * KEYS: cohort, generation, cohort fill lock. ARGV: observed generation, ttl seconds, lock token, member...
 */
export const INSTALL_COHORT_SCRIPT: LuaScript = {
  name: 'canary-install-cohort',
  source: `
if redis.call('GET', KEYS[3]) == ARGV[3] then redis.call('DEL', KEYS[3]) end
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SADD', KEYS[1], '')
local n = #ARGV
local i = 4
while i <= n do
  local j = math.min(i + 3999, n)
  redis.call('SADD', KEYS[1], unpack(ARGV, i, j))
  i = j + 1
end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
`,
};

/**
 * Drops the cached cohort, moves the generation to a fresh random value and records the flip, atomically.
 * KEYS: cohort, generation, flips stream. ARGV: platform id, '1'|'0', stream max length, fresh generation.
 */
export const INVALIDATE_SCRIPT: LuaScript = {
  name: 'canary-invalidate',
  source: `
redis.call('DEL', KEYS[1])
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
