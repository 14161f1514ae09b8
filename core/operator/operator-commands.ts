import { basisPointsToPercent, percentToBasisPoints } from '../rollout/bucket.js';
import type { AuditEntry, CanaryControl, ChangeMeta, MembershipSource, RolloutRecord } from '../membership/index.js';
import { StoreError } from '../membership/index.js';
import {
  AUDIT_QUERY_INPUT,
  FOLLOW_INPUT,
  REASON_INPUT,
  ROLLOUT_INPUT,
  SET_CHOICE_INPUT,
  platformIdInput,
  validateInput,
} from './inputs.js';
import { MESSAGES, ok } from './outcome.js';
import { PLAN_INPUT } from '../plans/plan-input.js';
import { planView } from '../plans/plan.js';
import type { PlanView } from '../plans/plan.js';
import type { PlanVerb } from '../plans/plan-change.js';
import type { PlanStore } from '../plans/plan-store.js';
import type { Outcome } from './outcome.js';

/** What the operator commands need of the operator plane (CanaryControl, or an in-memory stand-in in unit tests). */
export type ControlPort = Pick<
  CanaryControl,
  'setChoice' | 'clearChoice' | 'setRollout' | 'setPaused' | 'revokeOverrides' | 'recordEvent' | 'rollout' | 'overview' | 'status' | 'audit' | 'quarantined'
>;

/** The cohort as operators see it. */
export interface Overview {
  pinned: string[];
  excluded: string[];
  rollout: RolloutRecord;
}

/** What the operator commands need of release plans (PlanStore). */
export type PlansPort = Pick<PlanStore, 'start' | 'current' | 'verb'>;

export interface OperatorCommandsOptions {
  control: ControlPort;
  /** Release plans; without them the plan commands answer that plans are not available. */
  plans?: PlansPort;
  /** Logs a store failure (the caller removes credentials); the outcome tells the operator what it means. */
  onStoreError(stage: string, error: unknown): void;
}

/**
 * The operator plane's commands, shared by the admin API and the admin page: each validates its input with the one
 * schema of that input, runs the change through CanaryControl and answers a typed Outcome. A store outage becomes an
 * outcome (saying whether the change may have been applied); anything else is a bug and is thrown.
 */
export class OperatorCommands {
  readonly #control: ControlPort;
  readonly #plans: PlansPort | undefined;
  readonly #onStoreError: OperatorCommandsOptions['onStoreError'];

  constructor(options: OperatorCommandsOptions) {
    this.#control = options.control;
    this.#plans = options.plans;
    this.#onStoreError = options.onStoreError;
  }

  /** Pins a platform in (`canary: true`) or keeps it out: an explicit choice. */
  async setChoice(input: unknown, actor: string): Promise<Outcome<{ platformId: string; canary: boolean }>> {
    const valid = validateInput(SET_CHOICE_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const { platformId, canary, reason } = valid.value;
    return this.#change('set-choice', async () => {
      const applied = await this.#control.setChoice(platformId, canary, meta(actor, reason));
      if (applied === null) return { kind: 'not_found', message: MESSAGES.notFound(platformId) };
      if (!applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated(`The choice canary=${canary} for ${platformId}`) };
      return ok(applied.value);
    });
  }

  /**
   * Clears a platform's explicit choice: it follows the rollout again (`release`: the judge had quarantined it, and an
   * operator lets it back; audited as such).
   */
  async follow(input: unknown, actor: string, action: 'follow' | 'release' = 'follow'): Promise<Outcome<{ platformId: string; canary: boolean; source: MembershipSource }>> {
    const valid = validateInput(FOLLOW_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const { platformId, reason } = valid.value;
    return this.#change('clear-choice', async () => {
      const applied = await this.#control.clearChoice(platformId, meta(actor, reason), action);
      if (applied === null) return { kind: 'not_found', message: MESSAGES.notFound(platformId) };
      if (!applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated(`No explicit choice for ${platformId}`) };
      return ok(applied.value);
    });
  }

  /** Sets the percentage rollout. */
  async setRollout(input: unknown, actor: string): Promise<Outcome<RolloutRecord>> {
    const valid = validateInput(ROLLOUT_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const { percent, reason } = valid.value;
    return this.#change('set-rollout', async () => {
      const applied = await this.#control.setRollout(percentToBasisPoints(percent), meta(actor, reason));
      if (!applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated(`The rollout of ${percent}%`) };
      return ok(applied.value);
    });
  }

  /** The kill switch: pauses or resumes canary routing. */
  async setPaused(paused: boolean, input: unknown, actor: string): Promise<Outcome<{ paused: boolean }>> {
    const valid = validateInput(REASON_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    return this.#change(paused ? 'pause' : 'resume', async () => {
      const applied = await this.#control.setPaused(paused, meta(actor, valid.value.reason));
      if (!applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated(paused ? 'The pause' : 'The resume') };
      return ok({ paused: applied.value.paused });
    });
  }

  /** Revokes every tester override token minted until now (effective from the next request). */
  async revokeOverrides(input: unknown, actor: string): Promise<Outcome<{ revokedBefore: string }>> {
    const valid = validateInput(REASON_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    return this.#change('revoke-overrides', async () => {
      const applied = await this.#control.revokeOverrides(meta(actor, valid.value.reason));
      if (!applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated('The revocation of override tokens') };
      return ok(applied.value);
    });
  }

  /** Records an audited event that changes no routing (a tester override was minted). */
  async recordEvent(action: string, platformId: string | null, after: Record<string, unknown>, actor: string, reason: string | null): Promise<Outcome<null>> {
    return this.#change(`record-${action}`, async () => {
      await this.#control.recordEvent(action, platformId, after, { actor, reason });
      return ok(null);
    });
  }

  /** Where a platform goes and why, from the source of truth. */
  async status(platformId: unknown): Promise<Outcome<{ platformId: string; canary: boolean; source: MembershipSource }>> {
    const valid = validateInput(platformIdInput(), platformId, 'platform id');
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    return this.#read('status', async () => {
      const status = await this.#control.status(valid.value);
      return status === null ? { kind: 'not_found', message: MESSAGES.unknownPlatform(valid.value) } : ok(status);
    });
  }

  /** Pinned and excluded platforms and the rollout record. */
  overview(): Promise<Outcome<Overview>> {
    return this.#read('overview', async () => ok(await this.#control.overview()));
  }

  /** The platforms the judge quarantined that are still excluded. */
  quarantined(): Promise<Outcome<{ platformId: string; at: string; reason: string | null }[]>> {
    return this.#read('quarantined', async () => ok(await this.#control.quarantined()));
  }

  /** The rollout record alone. */
  rollout(): Promise<Outcome<RolloutRecord>> {
    return this.#read('rollout', async () => ok(await this.#control.rollout()));
  }

  /** A page of the audit log, newest first, with the id to pass as `before` for the next page. */
  async audit(query: unknown): Promise<Outcome<{ entries: AuditEntry[]; next: number | null }>> {
    const valid = validateInput(AUDIT_QUERY_INPUT, query);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const { limit, platformId, before } = valid.value;
    return this.#read('audit', async () => {
      const entries = await this.#control.audit({ limit, platformId: platformId ?? null, before: before ?? null });
      const last = entries.at(-1);
      return ok({ entries, next: entries.length === limit && last !== undefined ? last.id : null });
    });
  }

  /** Starts a release plan (one active at a time: a conflict otherwise, naming the active one). */
  async startPlan(input: unknown, actor: string): Promise<Outcome<PlanView>> {
    const valid = validateInput(PLAN_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const plans = this.#plans;
    if (plans === undefined) return NO_PLANS;
    return this.#change('plan-start', async () => {
      const plan = await plans.start(valid.value, actor);
      if (plan !== null) return ok(planView(plan));
      const active = await plans.current();
      const which = active === null ? 'another plan' : `plan ${active.id} (${active.state}, started by ${active.startedBy} at ${active.startedAt})`;
      return { kind: 'conflict', code: 'plan_active', message: `${which} is active: hold, finish or abort it before starting another.` };
    });
  }

  /** The latest plan, finished ones included. */
  currentPlan(): Promise<Outcome<PlanView>> {
    const plans = this.#plans;
    if (plans === undefined) return Promise.resolve(NO_PLANS);
    return this.#read('plan-current', async () => {
      const plan = await plans.current();
      return plan === null ? { kind: 'not_found', code: 'plan_not_found', message: 'No release plan was ever started (POST /v1/admin/canary/plans).' } : ok(planView(plan));
    });
  }

  /** approve, promote, hold, resume or abort the current plan. */
  async planVerb(verb: PlanVerb, input: unknown, actor: string): Promise<Outcome<PlanView>> {
    const valid = validateInput(REASON_INPUT, input);
    if (!valid.ok) return { kind: 'invalid', message: valid.message };
    const plans = this.#plans;
    if (plans === undefined) return NO_PLANS;
    return this.#change(`plan-${verb}`, async () => {
      const result = await plans.verb(verb, actor, valid.value.reason ?? null);
      if (result.kind === 'not_found') return { kind: 'not_found', code: 'plan_not_found', message: 'No release plan was ever started: nothing to change.' };
      if (result.kind === 'conflict') return { kind: 'conflict', code: 'plan_state', message: result.message };
      if (!result.applied.invalidated) return { kind: 'cache_not_invalidated', message: MESSAGES.notInvalidated(`The plan's ${verb}`) };
      return ok(planView(result.applied.plan));
    });
  }

  /** Percent of a rollout record, for answers. */
  static percentOf(rollout: { basisPoints: number }): number {
    return basisPointsToPercent(rollout.basisPoints);
  }

  async #change<T>(stage: string, run: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#onStoreError(`operator-${stage}`, error);
      return error.outcome === 'unknown'
        ? { kind: 'store_unavailable', applied: 'unknown', message: MESSAGES.storeOutcomeUnknown }
        : { kind: 'store_unavailable', applied: 'no', message: MESSAGES.storeNotApplied };
    }
  }

  async #read<T>(stage: string, run: () => Promise<Outcome<T>>): Promise<Outcome<T>> {
    try {
      return await run();
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      this.#onStoreError(`operator-${stage}`, error);
      return { kind: 'store_unavailable', applied: 'read', message: MESSAGES.storeRead };
    }
  }
}

const NO_PLANS: Outcome<never> = { kind: 'store_unavailable', applied: 'no', message: 'Release plans need the database (DATABASE_URL): nothing was changed.' };

function meta(actor: string, reason: string | null | undefined): ChangeMeta {
  return { actor, reason: reason ?? null };
}
