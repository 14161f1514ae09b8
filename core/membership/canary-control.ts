import { basisPointsToPercent } from '../rollout/bucket.js';
import { CONTROL_SQL } from './control-sql.js';
import { effectiveMembership } from './effective.js';
import type { MembershipSource, RolloutState } from './effective.js';
import { explicitChoiceOf, rolloutOf } from './membership-store.js';
import type { MembershipStore } from './membership-store.js';
import type { SqlClient } from './ports.js';
import { SQL } from './sql.js';
import type { StateRow } from './sql.js';
import { StoreError } from './store-error.js';

/** Who changes something, and why (both land in the audit log). */
export interface ChangeMeta {
  actor: string;
  reason: string | null;
}

/** The rollout record: the state plus who changed it last, and when. */
export interface RolloutRecord extends RolloutState {
  updatedAt: string;
  updatedBy: string;
}

/** One audit log entry. */
export interface AuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  platformId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
}

/** A committed change and whether the routing cache followed it (false: it converges within the cohort TTL). */
export interface Applied<T> {
  value: T;
  invalidated: boolean;
}

interface RolloutRow extends Record<string, unknown> {
  basis_points: number;
  salt: string;
  paused: boolean;
  updated_at: Date | string;
  updated_by: string;
}

function iso(value: Date | string): string {
  return value instanceof Date ? value.toISOString() : new Date(value).toISOString();
}

function rolloutRecord(row: RolloutRow): RolloutRecord {
  return { ...rolloutOf(row), updatedAt: iso(row.updated_at), updatedBy: row.updated_by };
}

// A store call that timed out may still have committed on the server; one that could not connect did not.
function isTimeout(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; depth++) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError' || /timed? ?out|timeout|aborted/i.test(e.message)) return true;
    e = e.cause ?? Reflect.get(e, 'sourceError');
  }
  return false;
}

export interface CanaryControlOptions {
  /** Postgres for the operator plane (hosts give it a longer timeout than the request path's). */
  sql: SqlClient;
  /** The membership cache to invalidate after each committed change. */
  membership: MembershipStore;
  /**
   * Runs before routing that is paused is resumed, e.g. to give the health guard a fresh window. Before, not after: a
   * guard tick between the commit and the hook would judge the resumed canary on the failures that paused it. Its
   * failure is reported through `onHookError` and does not stop the resume.
   */
  beforeResume?: () => Promise<void>;
  /**
   * Runs before a platform may be routed to the canary again (pinned in, or its explicit choice cleared: it follows
   * the rollout, or is released from quarantine), e.g. to drop its old canary evidence. Before the commit for the
   * same reason as `beforeResume`; its failure is reported through `onHookError` and does not stop the change.
   */
  beforeReadmit?: (platformId: string) => Promise<void>;
  onHookError?: (stage: string, error: unknown) => void;
}

/**
 * The operator plane's writes and reads: explicit choices, the rollout, the kill switch, the audit log. Each change is
 * one Postgres statement that writes its audit entry with it, then invalidates the routing cache and records the
 * change on the flips stream (so the origins move waiting jobs); from the next request on, routing follows it.
 */
export class CanaryControl {
  readonly #sql: SqlClient;
  readonly #membership: MembershipStore;

  readonly #beforeResume: CanaryControlOptions['beforeResume'];
  readonly #beforeReadmit: CanaryControlOptions['beforeReadmit'];
  readonly #onHookError: NonNullable<CanaryControlOptions['onHookError']>;

  constructor(options: CanaryControlOptions) {
    this.#sql = options.sql;
    this.#membership = options.membership;
    this.#beforeResume = options.beforeResume;
    this.#beforeReadmit = options.beforeReadmit;
    this.#onHookError = options.onHookError ?? (() => undefined);
  }

  /** Pins a platform in (`canary: true`) or excludes it. Null when the platform does not exist. */
  async setChoice(
    platformId: string,
    canary: boolean,
    meta: ChangeMeta,
    action: 'pin' | 'exclude' | 'quarantine' = canary ? 'pin' : 'exclude',
    evidence?: Record<string, unknown>,
  ): Promise<Applied<{ platformId: string; canary: boolean }> | null> {
    const evidenceJson = evidence === undefined ? null : JSON.stringify({ evidence });
    if (canary) await this.#readmit(platformId);
    const rows = await this.#write<{ audit_id: string | number }>(CONTROL_SQL.setChoice, [platformId, canary, meta.actor, action, meta.reason, evidenceJson]);
    const row = rows[0];
    if (row === undefined) return null;
    const version = Number(row.audit_id);
    // A quarantine is a hard cutoff for skew protection too: the platform's browsers stop reading the canary's assets.
    const change = { scope: 'platform', platformId, choice: canary ? 'in' : 'out', version, cutPins: action === 'quarantine' } as const;
    return { value: { platformId, canary }, invalidated: await this.#membership.follow(change) };
  }

  /** Clears a platform's explicit choice: it follows the rollout again. Null when the platform does not exist. */
  async clearChoice(
    platformId: string,
    meta: ChangeMeta,
    action: 'follow' | 'release' = 'follow',
  ): Promise<Applied<{ platformId: string; canary: boolean; source: MembershipSource }> | null> {
    await this.#readmit(platformId);
    const rows = await this.#write<StateRow & { audit_id: string | number }>(CONTROL_SQL.clearChoice, [platformId, meta.actor, meta.reason, action]);
    const row = rows[0];
    if (row === undefined) return null;
    const effective = await effectiveMembership(platformId, explicitChoiceOf(row), rolloutOf(row));
    const change = { scope: 'platform', platformId, choice: null, version: Number(row.audit_id) } as const;
    return { value: { platformId, ...effective }, invalidated: await this.#membership.follow(change) };
  }

  async #readmit(platformId: string): Promise<void> {
    await this.#beforeReadmit?.(platformId).catch((error: unknown) => this.#onHookError('before-readmit', error));
  }

  /** Sets the rollout percentage (as basis points, 0..10000). */
  async setRollout(basisPoints: number, meta: ChangeMeta): Promise<Applied<RolloutRecord>> {
    const rows = await this.#write<RolloutRow>(CONTROL_SQL.setRollout, [basisPoints, meta.actor, meta.reason]);
    const row = rows[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    return { value: rolloutRecord(row), invalidated: await this.#membership.follow({ scope: 'all' }) };
  }

  /**
   * Pauses (kill switch) or resumes canary routing; `evidence` (the guard's) is stored in the audit entry. Resuming
   * restores the previous cohort exactly: choices and rollout are left untouched by a pause. With `onlyIfChanged`
   * nothing is written (no audit entry, no invalidation) when routing already was in that state.
   */
  async setPaused(
    paused: boolean,
    meta: ChangeMeta,
    options: { evidence?: Record<string, unknown>; onlyIfChanged?: boolean } = {},
  ): Promise<Applied<{ paused: boolean; changed: boolean }>> {
    if (!paused && this.#beforeResume !== undefined) {
      const current = (await this.#sql.query<RolloutRow>(CONTROL_SQL.rollout, []))[0];
      if (current?.paused === true) await this.#beforeResume().catch((error: unknown) => this.#onHookError('before-resume', error));
    }
    const rows = await this.#write<RolloutRow & { was_paused: boolean }>(CONTROL_SQL.setPaused, [
      paused,
      meta.actor,
      paused ? 'pause' : 'resume',
      meta.reason,
      options.evidence === undefined ? null : JSON.stringify({ evidence: options.evidence }),
      options.onlyIfChanged === true,
    ]);
    const row = rows[0];
    if (row === undefined) {
      if (options.onlyIfChanged === true) return { value: { paused, changed: false }, invalidated: true };
      throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    }
    return { value: { paused: row.paused, changed: row.was_paused !== row.paused }, invalidated: await this.#membership.follow({ scope: 'all' }) };
  }

  /**
   * Revokes every tester override token minted until now: from the next request on, each is ignored (the instant is
   * read in the same lookup as membership, so the request path stays one round trip).
   */
  async revokeOverrides(meta: ChangeMeta): Promise<Applied<{ revokedBefore: string }>> {
    const rows = await this.#write<{ revoked_before_ms: string | number }>(CONTROL_SQL.revokeOverrides, [meta.actor, meta.reason]);
    const row = rows[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    const ms = Number(row.revoked_before_ms);
    return { value: { revokedBefore: new Date(ms).toISOString() }, invalidated: await this.#membership.followStateField('revoked', String(ms)) };
  }

  /** Records an event that changes no routing state (a tester override was minted) in the audit log. */
  async recordEvent(action: string, platformId: string | null, after: Record<string, unknown>, meta: ChangeMeta): Promise<void> {
    await this.#sql.query(CONTROL_SQL.auditEvent, [meta.actor, action, platformId, JSON.stringify(after), meta.reason]);
  }

  /** The platforms the judge quarantined that are still excluded (newest first), with when and why. */
  async quarantined(): Promise<{ platformId: string; at: string; reason: string | null }[]> {
    const rows = await this.#sql.query<{ platform_id: string; at: Date | string; reason: string | null }>(CONTROL_SQL.quarantined, []);
    return rows.map((r) => ({ platformId: r.platform_id, at: iso(r.at), reason: r.reason }));
  }

  /** The rollout record (percentage, salt, pause) from the source of truth, without the cohort. */
  async rollout(): Promise<RolloutRecord> {
    const row = (await this.#sql.query<RolloutRow>(CONTROL_SQL.rollout, []))[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    return rolloutRecord(row);
  }

  /** Pinned and excluded platforms (sorted) and the rollout record, from the source of truth. */
  async overview(): Promise<{ pinned: string[]; excluded: string[]; rollout: RolloutRecord }> {
    const [state, rows] = await Promise.all([this.#membership.loadState(), this.#sql.query<RolloutRow>(CONTROL_SQL.rollout, [])]);
    const row = rows[0];
    if (row === undefined) throw new Error('canary_rollout has no row: apply the migrations (npm run db:migrate)');
    return { pinned: [...state.pinned].sort(), excluded: [...state.excluded].sort(), rollout: rolloutRecord(row) };
  }

  /** Where a platform goes and why, from the source of truth; null for an unknown platform. */
  async status(platformId: string): Promise<{ platformId: string; canary: boolean; source: MembershipSource } | null> {
    const row = (await this.#sql.query<StateRow & { exists: boolean }>(SQL.platformState, [platformId]))[0];
    if (row === undefined || !row.exists) return null;
    return { platformId, ...(await effectiveMembership(platformId, explicitChoiceOf(row), rolloutOf(row))) };
  }

  /** Audit entries, newest first: at most `limit`, optionally of one platform, optionally older than entry `before`. */
  async audit(query: { limit: number; platformId: string | null; before: number | null }): Promise<AuditEntry[]> {
    const rows = await this.#sql.query<{
      id: string | number;
      at: Date | string;
      actor: string;
      action: string;
      platform_id: string | null;
      before: unknown;
      after: unknown;
      reason: string | null;
    }>(CONTROL_SQL.audit, [query.limit, query.platformId, query.before]);
    return rows.map((r) => ({
      id: Number(r.id),
      at: iso(r.at),
      actor: r.actor,
      action: r.action,
      platformId: r.platform_id,
      before: r.before,
      after: r.after,
      reason: r.reason,
    }));
  }

  /** Percent of a rollout record, for answers. */
  static percentOf(rollout: RolloutState): number {
    return basisPointsToPercent(rollout.basisPoints);
  }

  /**
   * Runs one change statement. A timeout leaves it unknown whether Postgres committed (and at which version): the
   * whole cached state is dropped anyway (so it can never disagree with a committed change) and the error says the
   * outcome is unknown.
   */
  async #write<Row extends Record<string, unknown>>(text: string, params: readonly unknown[]): Promise<Row[]> {
    try {
      return await this.#sql.query<Row>(text, params);
    } catch (error) {
      if (error instanceof StoreError && isTimeout(error.cause)) {
        await this.#membership.follow({ scope: 'all' });
        throw new StoreError(error.store, { cause: error.cause, outcome: 'unknown' });
      }
      throw error;
    }
  }
}
