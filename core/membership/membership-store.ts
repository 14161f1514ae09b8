import { cachedRolloutBucket } from '../rollout/bucket.js';
import { effectiveMembership } from './effective.js';
import type { ExplicitChoice, MembershipSource, RolloutState } from './effective.js';
import {
  COHORT_FILL_LOCK_KEY,
  FLIPS_STREAM_KEY,
  LOADED_MARKER,
  STATE_KEYS,
  apiKeyPlatformKey,
  flowPlatformKey,
  resolverFillLockKey,
} from './keys.js';
import type { ScriptRunner, SqlClient } from './ports.js';
import { CACHE_RESOLVER_SCRIPT, INSTALL_COHORT_SCRIPT, INVALIDATE_SCRIPT, LOOKUP_SCRIPT, RELEASE_LOCK_SCRIPT } from './scripts.js';
import { SQL } from './sql.js';
import type { StateRow } from './sql.js';

/** What a request names: a platform directly, or something that maps to one. */
export type PlatformRef =
  | { kind: 'platform'; platformId: string }
  | { kind: 'flow'; flowId: string }
  | { kind: 'api-key'; hashedKey: string };

/**
 * Where the answer came from. `none` means both stores failed and `canary: false` is the fail-open default;
 * `refused` means the caller's admission check declined a database read for an id the cache did not know.
 */
export type Authority = 'cache' | 'database' | 'none' | 'refused';

/** The membership decision for one request, with enough trace to log it. */
export interface MembershipAnswer {
  platformId: string | null;
  /** Effective membership (docs/architecture.md §7). */
  canary: boolean;
  /** Which rule decided it. */
  source: MembershipSource;
  authority: Authority;
  trace: {
    cache: 'hit' | 'negative' | 'miss' | 'error' | 'off';
    database: 'none' | 'cohort' | 'point' | 'resolver' | 'error';
    waits: number;
    /** This lookup started the background reload of a cohort about to expire. */
    refresh: boolean;
  };
}

export interface LookupOptions {
  /**
   * Runs background work past the answer (a cohort refresh). Workers must pass `ctx.waitUntil`, or the runtime may
   * cancel the work once the response is sent; without it the work runs detached.
   */
  defer?: (task: Promise<void>) => void;
  /**
   * Asked before an id the cache does not know (an API key or flow id) is looked up in Postgres; false refuses the
   * read (authority `refused`). Hosts use it to bound what a stream of made-up ids can cost.
   */
  admitResolverFill?: () => Promise<boolean>;
}

export interface MembershipStoreOptions {
  /** Null disables the cache (every lookup reads Postgres). */
  redis: ScriptRunner | null;
  sql: SqlClient;
  /** Bound on how long a cohort may stay cached without an invalidation. */
  cohortTtlSeconds?: number;
  /** A cached cohort with less time to live than this is reloaded in the background by one reader. */
  refreshAheadSeconds?: number;
  resolverTtlSeconds?: number;
  negativeTtlSeconds?: number;
  fillLockMs?: number;
  /**
   * How long a reader waits (polling with backoff) while another fills a cold cache before it asks Postgres itself.
   * It should cover a fill (one state query plus one install), so a cold burst costs one query, not one per request.
   */
  fillWaitBudgetMs?: number;
  flipsStreamMaxLength?: number;
  /** Called for failures that were handled by falling back, so hosts can log them. */
  onFallback?: (event: { stage: string; error: unknown }) => void;
}

/** What a change did to the cache: false when Redis could not be reached (the cache converges within the TTL). */
export interface Invalidation {
  /** The one platform whose choice changed, or null for a change of every platform (rollout, pause). */
  platformId: string | null;
  /** The platform's new explicit choice, for the stream entry (null: cleared, or a change of every platform). */
  canary: boolean | null;
}

/** The whole membership state as cached: pinned and excluded platforms and the rollout. */
export interface CohortState {
  pinned: Set<string>;
  excluded: Set<string>;
  rollout: RolloutState;
}

const DEFAULTS = {
  cohortTtlSeconds: 60,
  refreshAheadSeconds: 15,
  resolverTtlSeconds: 300,
  negativeTtlSeconds: 30,
  fillLockMs: 5_000,
  fillWaitBudgetMs: 2_000,
  flipsStreamMaxLength: 10_000,
} as const;

type LookupReply =
  | { kind: 'hit'; platformId: string; explicit: ExplicitChoice; rollout: RolloutState; refreshGeneration: string | null }
  | { kind: 'negative' }
  | { kind: 'resolver-miss'; locked: boolean }
  | { kind: 'miss'; platformId: string; generation: string; locked: boolean };

function explicitOf(flag: unknown): ExplicitChoice {
  return flag === '1' ? 'in' : flag === '0' ? 'out' : null;
}

function parseLookupReply(raw: unknown): LookupReply {
  if (!Array.isArray(raw)) throw new Error(`unexpected lookup reply: ${typeof raw}`);
  const [tag, a, b, c, d, e, f] = raw as unknown[];
  if (tag === 'hit' && typeof a === 'string') {
    return {
      kind: 'hit',
      platformId: a,
      explicit: explicitOf(b),
      rollout: { basisPoints: Number(c), salt: String(d ?? ''), paused: String(e) !== '0' },
      refreshGeneration: f === undefined || f === null ? null : String(f),
    };
  }
  if (tag === 'negative') return { kind: 'negative' };
  if (tag === 'resolver-miss') return { kind: 'resolver-miss', locked: Number(a) === 1 };
  if (tag === 'miss' && typeof a === 'string') {
    return { kind: 'miss', platformId: a, generation: String(b), locked: Number(c) === 1 };
  }
  throw new Error(`unexpected lookup reply tag: ${String(tag)}`);
}

/** The rollout state of a row that carries one. */
export function rolloutOf(row: { basis_points: number; salt: string; paused: boolean }): RolloutState {
  return { basisPoints: Number(row.basis_points), salt: row.salt, paused: row.paused };
}

/**
 * A platform's explicit choice from its plan row. `canary = true` is a pin even without `canary_explicit`: a tool or
 * seed that inserts `(platform_id, canary)` the way it did before the rollout existed must keep pinning (the admin
 * routes always write both columns, and clearing a choice sets both to false).
 */
export function explicitChoiceOf(row: { canary: boolean; canary_explicit: boolean }): ExplicitChoice {
  if (row.canary) return 'in';
  return row.canary_explicit ? 'out' : null;
}

function resolverKeyOf(ref: PlatformRef): string | null {
  if (ref.kind === 'flow') return flowPlatformKey(ref.flowId);
  if (ref.kind === 'api-key') return apiKeyPlatformKey(ref.hashedKey);
  return null;
}

/** Poll delays: 5, 10, 20, 40, 80, then 100 ms each, until they add up to the budget. */
function fillWaits(budgetMs: number): number[] {
  const waits: number[] = [];
  let total = 0;
  for (let next = 5; total + next <= budgetMs; next = Math.min(next * 2, 100)) {
    waits.push(next);
    total += next;
  }
  return waits;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Canary membership with Postgres as the source of truth and Redis as a race-free, stampede-free cache.
 * Every warm lookup is exactly one Redis round trip (one Lua script) and no database query, whatever the cohort size
 * or rollout percentage.
 */
export class MembershipStore {
  readonly #redis: ScriptRunner | null;
  readonly #sql: SqlClient;
  readonly #opts: Required<Omit<MembershipStoreOptions, 'redis' | 'sql' | 'onFallback'>>;
  readonly #waits: number[];
  readonly #onFallback: NonNullable<MembershipStoreOptions['onFallback']>;
  // The store lives as long as its isolate or process, so the memo does too.
  readonly #bucketOf = cachedRolloutBucket();

  constructor(options: MembershipStoreOptions) {
    this.#redis = options.redis;
    this.#sql = options.sql;
    this.#opts = {
      cohortTtlSeconds: options.cohortTtlSeconds ?? DEFAULTS.cohortTtlSeconds,
      refreshAheadSeconds: options.refreshAheadSeconds ?? DEFAULTS.refreshAheadSeconds,
      resolverTtlSeconds: options.resolverTtlSeconds ?? DEFAULTS.resolverTtlSeconds,
      negativeTtlSeconds: options.negativeTtlSeconds ?? DEFAULTS.negativeTtlSeconds,
      fillLockMs: options.fillLockMs ?? DEFAULTS.fillLockMs,
      fillWaitBudgetMs: options.fillWaitBudgetMs ?? DEFAULTS.fillWaitBudgetMs,
      flipsStreamMaxLength: options.flipsStreamMaxLength ?? DEFAULTS.flipsStreamMaxLength,
    };
    this.#waits = fillWaits(this.#opts.fillWaitBudgetMs);
    this.#onFallback = options.onFallback ?? (() => undefined);
  }

  /** Resolves the ref to a platform and decides its effective membership. Never throws. */
  async lookup(ref: PlatformRef, options: LookupOptions = {}): Promise<MembershipAnswer> {
    if (this.#redis === null) return this.#fromDatabase(ref, 'off', 0);
    const redis = this.#redis;
    const resolverKey = resolverKeyOf(ref);
    const keys: string[] = [...STATE_KEYS];
    if (resolverKey !== null) keys.push(resolverKey, resolverFillLockKey(resolverKey));
    const token = crypto.randomUUID();
    const args = [
      ref.kind === 'platform' ? ref.platformId : '',
      token,
      String(this.#opts.fillLockMs),
      crypto.randomUUID(),
      String(this.#opts.refreshAheadSeconds),
    ];

    for (let attempt = 0; ; attempt++) {
      let reply: LookupReply;
      try {
        reply = parseLookupReply(await redis.run(LOOKUP_SCRIPT, keys, args));
      } catch (error) {
        this.#onFallback({ stage: 'cache-lookup', error });
        return this.#fromDatabase(ref, 'error', attempt);
      }
      const lastTry = attempt >= this.#waits.length;
      switch (reply.kind) {
        case 'hit': {
          const answer = await this.#decide(reply.platformId, reply.explicit, reply.rollout, 'cache', 'hit', 'none', attempt);
          if (reply.refreshGeneration !== null) {
            answer.trace.refresh = true;
            const task = this.#loadAndInstall(reply.refreshGeneration, token).then(() => undefined);
            if (options.defer) options.defer(task);
            else void task;
          }
          return answer;
        }
        case 'negative':
          return this.#answer(null, false, 'default', 'cache', 'negative', 'none', attempt);
        case 'resolver-miss':
          if (reply.locked || lastTry) return this.#fillResolver(ref, resolverKey, token, attempt, options);
          break;
        case 'miss':
          if (reply.locked) return this.#fillCohort(reply.platformId, reply.generation, token, attempt);
          if (lastTry) return this.#fromDatabase({ kind: 'platform', platformId: reply.platformId }, 'miss', attempt);
          break;
      }
      await sleep(this.#waits[attempt] ?? 0);
    }
  }

  /**
   * Drops the cached state and records the change on the flips stream, atomically (docs/architecture.md §3); call it
   * after the change is committed to Postgres. False when Redis could not be reached.
   */
  async invalidate(change: Invalidation): Promise<boolean> {
    if (this.#redis === null) return true;
    const [cohort, generation, , excluded, rollout] = STATE_KEYS;
    try {
      await this.#redis.run(
        INVALIDATE_SCRIPT,
        [cohort, generation, FLIPS_STREAM_KEY, excluded, rollout],
        [change.platformId ?? '', change.canary === null ? '' : change.canary ? '1' : '0', String(this.#opts.flipsStreamMaxLength), crypto.randomUUID()],
      );
      return true;
    } catch (error) {
      this.#onFallback({ stage: 'cache-invalidate', error });
      return false;
    }
  }

  /** The whole membership state from the source of truth. Throws when Postgres fails. */
  async loadState(): Promise<CohortState> {
    const rows = await this.#sql.query<{ basis_points: number; salt: string; paused: boolean; pinned: unknown; excluded: unknown }>(SQL.state, []);
    const row = rows[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    const ids = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    return { pinned: new Set(ids(row.pinned)), excluded: new Set(ids(row.excluded)), rollout: rolloutOf(row) };
  }

  async #fillCohort(platformId: string, generation: string, token: string, waits: number): Promise<MembershipAnswer> {
    const state = await this.#loadAndInstall(generation, token);
    if (state === null) return this.#answer(platformId, false, 'default', 'none', 'miss', 'error', waits);
    const explicit: ExplicitChoice = state.pinned.has(platformId) ? 'in' : state.excluded.has(platformId) ? 'out' : null;
    return this.#decide(platformId, explicit, state.rollout, 'database', 'miss', 'cohort', waits);
  }

  /**
   * Loads the state from Postgres and installs it if the generation is still the one observed (the install releases
   * the fill lock). Null when Postgres failed. Never throws: it also runs in the background for refresh-ahead.
   */
  async #loadAndInstall(generation: string, token: string): Promise<CohortState | null> {
    let state: CohortState;
    try {
      state = await this.loadState();
    } catch (error) {
      this.#onFallback({ stage: 'cohort-load', error });
      await this.#releaseLock(COHORT_FILL_LOCK_KEY, token);
      return null;
    }
    if (this.#redis !== null) {
      const pinned = [...state.pinned].filter((id) => id !== LOADED_MARKER);
      const excluded = [...state.excluded].filter((id) => id !== LOADED_MARKER);
      try {
        await this.#redis.run(INSTALL_COHORT_SCRIPT, [...STATE_KEYS], [
          generation,
          String(this.#opts.cohortTtlSeconds),
          token,
          String(state.rollout.basisPoints),
          state.rollout.salt,
          state.rollout.paused ? '1' : '0',
          String(pinned.length),
          ...pinned,
          ...excluded,
        ]);
      } catch (error) {
        this.#onFallback({ stage: 'cohort-install', error });
        await this.#releaseLock(COHORT_FILL_LOCK_KEY, token);
      }
    }
    return state;
  }

  async #fillResolver(
    ref: PlatformRef,
    resolverKey: string | null,
    token: string,
    waits: number,
    options: LookupOptions,
  ): Promise<MembershipAnswer> {
    if (options.admitResolverFill !== undefined && !(await options.admitResolverFill())) {
      if (resolverKey !== null) await this.#releaseLock(resolverFillLockKey(resolverKey), token);
      return this.#answer(null, false, 'default', 'refused', 'miss', 'none', waits);
    }
    const answer = await this.#fromDatabase(ref, 'miss', waits);
    if (resolverKey === null || this.#redis === null) return answer;
    if (answer.authority !== 'database') {
      await this.#releaseLock(resolverFillLockKey(resolverKey), token);
      return answer;
    }
    const ttl = answer.platformId === null ? this.#opts.negativeTtlSeconds : this.#opts.resolverTtlSeconds;
    try {
      await this.#redis.run(CACHE_RESOLVER_SCRIPT, [resolverKey, resolverFillLockKey(resolverKey)], [answer.platformId ?? '', String(ttl), token]);
    } catch (error) {
      this.#onFallback({ stage: 'resolver-install', error });
      await this.#releaseLock(resolverFillLockKey(resolverKey), token);
    }
    return answer;
  }

  /** Best effort: when Redis itself failed, the lock expires on its own after fillLockMs. */
  async #releaseLock(lockKey: string, token: string): Promise<void> {
    if (this.#redis === null) return;
    try {
      await this.#redis.run(RELEASE_LOCK_SCRIPT, [lockKey], [token]);
    } catch (error) {
      this.#onFallback({ stage: 'lock-release', error });
    }
  }

  async #fromDatabase(ref: PlatformRef, cache: MembershipAnswer['trace']['cache'], waits: number): Promise<MembershipAnswer> {
    const knownPlatform = ref.kind === 'platform' ? ref.platformId : null;
    const database = ref.kind === 'platform' ? 'point' : 'resolver';
    try {
      const [text, param] =
        ref.kind === 'platform' ? [SQL.platformState, ref.platformId] : ref.kind === 'flow' ? [SQL.flowState, ref.flowId] : [SQL.apiKeyState, ref.hashedKey];
      const row = (await this.#sql.query<StateRow>(text, [param]))[0];
      if (row === undefined || row.platform_id === null) return this.#answer(knownPlatform, false, 'default', 'database', cache, database, waits);
      return this.#decide(row.platform_id, explicitChoiceOf(row), rolloutOf(row), 'database', cache, database, waits);
    } catch (error) {
      this.#onFallback({ stage: 'database-lookup', error });
      return this.#answer(knownPlatform, false, 'default', 'none', cache, 'error', waits);
    }
  }

  async #decide(
    platformId: string,
    explicit: ExplicitChoice,
    rollout: RolloutState,
    authority: Authority,
    cache: MembershipAnswer['trace']['cache'],
    database: MembershipAnswer['trace']['database'],
    waits: number,
  ): Promise<MembershipAnswer> {
    // The empty id is the loaded marker of the cached sets, never a platform.
    if (platformId === '') return this.#answer(platformId, false, 'default', authority, cache, database, waits);
    const { canary, source } = await effectiveMembership(platformId, explicit, rollout, this.#bucketOf);
    return this.#answer(platformId, canary, source, authority, cache, database, waits);
  }

  #answer(
    platformId: string | null,
    canary: boolean,
    source: MembershipSource,
    authority: Authority,
    cache: MembershipAnswer['trace']['cache'],
    database: MembershipAnswer['trace']['database'],
    waits: number,
  ): MembershipAnswer {
    return { platformId, canary, source, authority, trace: { cache, database, waits, refresh: false } };
  }
}
