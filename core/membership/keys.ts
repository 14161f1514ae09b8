/** Redis key of the cached pinned cohort (a SET of platform ids plus the loaded-marker member). Contract name. */
export const COHORT_KEY = 'canary-platform-ids';
/** Redis key of the cached explicit exclusions (a SET, with the loaded-marker member), installed with the cohort. */
export const EXCLUDED_KEY = 'canary-platform-ids:excluded';
/** Redis key of the cached rollout state (a HASH: bp, salt, paused), installed with the cohort. */
export const ROLLOUT_KEY = 'canary-platform-ids:rollout';
/**
 * Set to a fresh random value by every invalidation; a cohort fill installs only if the generation it observed is still
 * current (docs/architecture.md §3).
 */
export const GENERATION_KEY = 'canary-platform-ids:generation';
/** Short lock so that one reader fills a cold cohort while the others wait instead of stampeding Postgres. */
export const COHORT_FILL_LOCK_KEY = 'canary-platform-ids:fill-lock';
/** Stream of acknowledged changes (flips, rollout, pause); the origin consumes it to move queued jobs between fleets. */
export const FLIPS_STREAM_KEY = 'canary-platform-flips';
/**
 * Redis key of the versions of recent explicit choices (a HASH: platform id -> audit id of its latest change), so a
 * one-platform change applied to the cached state in place can never be overtaken by an older one (membership-store).
 */
export const CHOICE_VERSIONS_KEY = 'canary-platform-ids:versions';
/**
 * Member that marks a cached SET as loaded, so an empty set is distinguishable from a cache miss. The ':' keeps it
 * outside the platform-id rule, so it can never be a platform.
 */
export const LOADED_MARKER = ':loaded';
/** Resolver entry of a flow or API key known to name no platform (again outside the platform-id rule). */
export const NO_PLATFORM = ':none';

/**
 * Redis key of the skew-pin cutoffs (a HASH: platform id -> epoch ms): build pins of that platform issued before the
 * instant no longer hold (the judge quarantined it). Read by the one lookup; not part of the cached state, so a
 * rollout change or a reload never drops it; a platform readmitted to the canary loses its entry.
 */
export const PIN_CUTOFFS_KEY = 'canary-edge:pin-cutoffs';

/** Keys of the cached membership state, in the order the scripts take them. */
export const STATE_KEYS = [COHORT_KEY, GENERATION_KEY, COHORT_FILL_LOCK_KEY, EXCLUDED_KEY, ROLLOUT_KEY, CHOICE_VERSIONS_KEY] as const;

/** Redis key caching flow id -> platform id (NO_PLATFORM = known unknown). */
export function flowPlatformKey(flowId: string): string {
  return `canary-edge:flow-platform:${flowId}`;
}

/** Redis key caching sha256(api key) -> platform id (NO_PLATFORM = known unknown). */
export function apiKeyPlatformKey(hashedKey: string): string {
  return `canary-edge:api-key-platform:${hashedKey}`;
}

/** Fill lock of one resolver entry. */
export function resolverFillLockKey(resolverKey: string): string {
  return `${resolverKey}:fill-lock`;
}
