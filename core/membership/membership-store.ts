import { cachedRolloutBucket } from '../rollout/bucket.js';
import { effectiveMembership } from './effective.js';
import type { ExplicitChoice, MembershipSource, RolloutState } from './effective.js';
import type { MembershipChange } from './flip-entry.js';
import { choiceField } from './flip-entry.js';
import {
  COHORT_FILL_LOCK_KEY,
  FLIPS_STREAM_KEY,
  LOADED_MARKER,
  NO_PLATFORM,
  PIN_CUTOFFS_KEY,
  STATE_KEYS,
  apiKeyPlatformKey,
  flowPlatformKey,
  resolverFillLockKey,
} from './keys.js';
import { decodeLookupReply } from './lookup-reply.js';
import type { LookupReply } from './lookup-reply.js';
import type { ScriptRunner, SqlClient } from './ports.js';
import {
  APPLY_CHOICE_SCRIPT,
  CACHE_RESOLVER_SCRIPT,
  INSTALL_COHORT_SCRIPT,
  INVALIDATE_ALL_SCRIPT,
  LOOKUP_SCRIPT,
  RELEASE_LOCK_SCRIPT,
  SET_STATE_FIELD_SCRIPT,
} from './scripts.js';
import { SQL } from './sql.js';
import type { StateRow } from './sql.js';

/** What a request names: a platform directly, something that maps to one, or nothing (the shared state only). */
export type PlatformRef =
  | { kind: 'platform'; platformId: string }
  | { kind: 'flow'; flowId: string }
  | { kind: 'api-key'; hashedKey: string }
  | { kind: 'none' };

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
  /** The platform's explicit operator choice, whatever decided (a pause hides it from `source`). */
  explicit: ExplicitChoice;
  /** Override tokens minted at or before this instant (epoch ms) are revoked; null when no state was read. */
  overridesRevokedBeforeMs: number | null;
  /** Skew-protection pins of this platform issued before this instant (epoch ms) no longer hold; null: none cut (or unknown). */
  pinCutoffMs: number | null;
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

/**
 * A committed change the routing cache must follow: a change of every platform, or one platform's new explicit
 * choice with its version (the audit id of the change; see scripts.ts for why it is applied in place).
 */
export type CommittedChange = { scope: 'all' } | (Extract<MembershipChange, { scope: 'platform' }> & { version: number; cutPins?: boolean });

/** The whole membership state as cached: pinned and excluded platforms, the rollout, and recent choice versions. */
export interface CohortState {
  pinned: Set<string>;
  excluded: Set<string>;
  rollout: RolloutState;
  overridesRevokedBeforeMs: number;
  /** Platform id -> version of its latest choice change of the last few minutes (sql.ts RECENT_CHOICES_SECONDS). */
  recentChoices: Map<string, number>;
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

/**
 * How long a recorded one-platform change is kept for fills to merge: a fill's snapshot is at most a few seconds old
 * (store timeouts), so any change recorded longer ago than this was committed before it and is in the snapshot.
 */
const CHOICE_RECORD_KEEP_MS = 120_000;

/** The rollout state of a row that carries one. */
export function rolloutOf(row: { basis_points: number; salt: string; paused: boolean }): RolloutState {
  return { basisPoints: Number(row.basis_points), salt: row.salt, paused: row.paused };
}

/** A platform's explicit choice from a row's `explicit_choice` column (computed by the one SQL rule, sql.ts). */
export function explicitChoiceOf(row: { explicit_choice: unknown }): ExplicitChoice {
  return row.explicit_choice === 'in' ? 'in' : row.explicit_choice === 'out' ? 'out' : null;
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
    keys.push(PIN_CUTOFFS_KEY);
    const token = crypto.randomUUID();
    const args = [
      ref.kind === 'platform' ? ref.platformId : NO_PLATFORM,
      token,
      String(this.#opts.fillLockMs),
      crypto.randomUUID(),
      String(this.#opts.refreshAheadSeconds),
      NO_PLATFORM,
    ];

    for (let attempt = 0; ; attempt++) {
      let reply: LookupReply;
      try {
        reply = decodeLookupReply(await redis.run(LOOKUP_SCRIPT, keys, args));
      } catch (error) {
        this.#onFallback({ stage: 'cache-lookup', error });
        return this.#fromDatabase(ref, 'error', attempt);
      }
      const lastTry = attempt >= this.#waits.length;
      switch (reply.kind) {
        case 'hit': {
          const state = { explicit: reply.explicit, rollout: reply.rollout, overridesRevokedBeforeMs: reply.overridesRevokedBeforeMs, pinCutoffMs: reply.pinCutoffMs };
          const answer = await this.#decide(reply.platformId, state, { authority: 'cache', cache: 'hit', database: 'none', waits: attempt });
          if (reply.refreshGeneration !== null) {
            answer.trace.refresh = true;
            const task = this.#loadAndInstall(reply.refreshGeneration, token).then(() => undefined);
            if (options.defer) options.defer(task);
            else void task;
          }
          return answer;
        }
        case 'negative':
          return unanswered(null, { authority: 'cache', cache: 'negative', database: 'none', waits: attempt });
        case 'resolver-miss':
          if (reply.locked || lastTry) return this.#fillResolver(ref, resolverKey, token, attempt, options);
          break;
        case 'miss':
          if (reply.locked) return this.#fillCohort(reply.platformId, reply.generation, token, attempt);
          if (lastTry) return this.#fromDatabase(reply.platformId === NO_PLATFORM ? { kind: 'none' } : { kind: 'platform', platformId: reply.platformId }, 'miss', attempt);
          break;
      }
      await sleep(this.#waits[attempt] ?? 0);
    }
  }

  /**
   * Makes the routing cache follow a committed change and records it on the flips stream, atomically (scripts.ts): a
   * change of every platform drops the cached state; a one-platform change is applied in place. Call it after the
   * change is committed to Postgres. False when Redis could not be reached (the cache converges within its TTL).
   */
  async follow(change: CommittedChange): Promise<boolean> {
    if (this.#redis === null) return true;
    try {
      if (change.scope === 'all') {
        await this.#redis.run(INVALIDATE_ALL_SCRIPT, [...STATE_KEYS, FLIPS_STREAM_KEY], [String(this.#opts.flipsStreamMaxLength), crypto.randomUUID()]);
      } else {
        await this.#redis.run(APPLY_CHOICE_SCRIPT, [...STATE_KEYS, FLIPS_STREAM_KEY, PIN_CUTOFFS_KEY], [
          change.platformId,
          choiceField(change.choice),
          String(change.version),
          String(this.#opts.flipsStreamMaxLength),
          change.cutPins === true ? 'cut' : 'keep',
        ]);
      }
      return true;
    } catch (error) {
      this.#onFallback({ stage: 'cache-invalidate', error });
      return false;
    }
  }

  /**
   * Makes the cached state follow a committed change of a field every lookup reads (the override revocation instant):
   * written in place, and fills that read before it refused (scripts.ts SET_STATE_FIELD_SCRIPT). False when Redis
   * could not be reached.
   */
  async followStateField(field: 'revoked', value: string): Promise<boolean> {
    if (this.#redis === null) return true;
    try {
      await this.#redis.run(SET_STATE_FIELD_SCRIPT, [...STATE_KEYS], [field, value, crypto.randomUUID()]);
      return true;
    } catch (error) {
      this.#onFallback({ stage: 'cache-invalidate', error });
      return false;
    }
  }

  /** The whole membership state from the source of truth. Throws when Postgres fails. */
  async loadState(): Promise<CohortState> {
    const rows = await this.#sql.query<{
      basis_points: number;
      salt: string;
      paused: boolean;
      overrides_revoked_before_ms: number | string;
      pinned: unknown;
      excluded: unknown;
      recent: unknown;
    }>(SQL.state, []);
    const row = rows[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    const ids = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);
    const recentChoices = new Map<string, number>();
    if (Array.isArray(row.recent)) {
      for (const pair of row.recent as unknown[]) {
        if (Array.isArray(pair) && typeof pair[0] === 'string' && Number.isSafeInteger(Number(pair[1]))) recentChoices.set(pair[0], Number(pair[1]));
      }
    }
    return {
      pinned: new Set(ids(row.pinned)),
      excluded: new Set(ids(row.excluded)),
      rollout: rolloutOf(row),
      overridesRevokedBeforeMs: Number(row.overrides_revoked_before_ms) || 0,
      recentChoices,
    };
  }

  async #fillCohort(platformId: string, generation: string, token: string, waits: number): Promise<MembershipAnswer> {
    const state = await this.#loadAndInstall(generation, token);
    if (state === null) return unanswered(platformId === NO_PLATFORM ? null : platformId, { authority: 'none', cache: 'miss', database: 'error', waits });
    const explicit: ExplicitChoice = state.pinned.has(platformId) ? 'in' : state.excluded.has(platformId) ? 'out' : null;
    return this.#decide(platformId, { explicit, rollout: state.rollout, overridesRevokedBeforeMs: state.overridesRevokedBeforeMs }, {
      authority: 'database',
      cache: 'miss',
      database: 'cohort',
      waits,
    });
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
          LOADED_MARKER,
          String(CHOICE_RECORD_KEEP_MS),
          String(pinned.length),
          String(excluded.length),
          String(state.overridesRevokedBeforeMs),
          ...pinned,
          ...excluded,
          ...[...state.recentChoices].flatMap(([platformId, version]) => [platformId, String(version)]),
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
      return unanswered(null, { authority: 'refused', cache: 'miss', database: 'none', waits });
    }
    const answer = await this.#fromDatabase(ref, 'miss', waits);
    if (resolverKey === null || this.#redis === null) return answer;
    if (answer.authority !== 'database') {
      await this.#releaseLock(resolverFillLockKey(resolverKey), token);
      return answer;
    }
    const ttl = answer.platformId === null ? this.#opts.negativeTtlSeconds : this.#opts.resolverTtlSeconds;
    try {
      await this.#redis.run(CACHE_RESOLVER_SCRIPT, [resolverKey, resolverFillLockKey(resolverKey)], [answer.platformId ?? NO_PLATFORM, String(ttl), token]);
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
    const database = ref.kind === 'platform' || ref.kind === 'none' ? 'point' : 'resolver';
    try {
      const [text, param] =
        ref.kind === 'platform'
          ? [SQL.platformState, ref.platformId]
          : ref.kind === 'none'
            ? [SQL.platformState, NO_PLATFORM]
            : ref.kind === 'flow'
              ? [SQL.flowState, ref.flowId]
              : [SQL.apiKeyState, ref.hashedKey];
      const row = (await this.#sql.query<StateRow>(text, [param]))[0];
      const trace = { authority: 'database', cache, database, waits } as const;
      if (row === undefined || row.platform_id === null) return unanswered(knownPlatform, trace);
      return this.#decide(row.platform_id, { explicit: explicitChoiceOf(row), rollout: rolloutOf(row), overridesRevokedBeforeMs: Number(row.overrides_revoked_before_ms) || 0 }, trace);
    } catch (error) {
      this.#onFallback({ stage: 'database-lookup', error });
      return unanswered(knownPlatform, { authority: 'none', cache, database: 'error', waits });
    }
  }

  /** The membership rule applied to a platform's state; a lookup that names no platform (NO_PLATFORM) reads the state only. */
  async #decide(platformId: string, state: PlatformState, trace: AnswerTrace): Promise<MembershipAnswer> {
    const base = { explicit: state.explicit, overridesRevokedBeforeMs: state.overridesRevokedBeforeMs, pinCutoffMs: state.pinCutoffMs ?? null, authority: trace.authority };
    const traced = { cache: trace.cache, database: trace.database, waits: trace.waits, refresh: false };
    if (platformId === NO_PLATFORM) return { platformId: null, canary: false, source: 'default', ...base, explicit: null, trace: traced };
    const { canary, source } = await effectiveMembership(platformId, state.explicit, state.rollout, this.#bucketOf);
    return { platformId, canary, source, ...base, trace: traced };
  }
}

/** What the state says of one platform. */
interface PlatformState {
  explicit: ExplicitChoice;
  rollout: RolloutState;
  overridesRevokedBeforeMs: number;
  /** Only the cache knows it (PIN_CUTOFFS_KEY). */
  pinCutoffMs?: number | null;
}

/** Where an answer came from. */
interface AnswerTrace {
  authority: Authority;
  cache: MembershipAnswer['trace']['cache'];
  database: MembershipAnswer['trace']['database'];
  waits: number;
}

/** An answer without state: no platform known, stores down, or the read refused (`canary: false` fails open). */
function unanswered(platformId: string | null, trace: AnswerTrace): MembershipAnswer {
  return {
    platformId,
    canary: false,
    source: 'default',
    explicit: null,
    overridesRevokedBeforeMs: null,
    pinCutoffMs: null,
    authority: trace.authority,
    trace: { cache: trace.cache, database: trace.database, waits: trace.waits, refresh: false },
  };
}
