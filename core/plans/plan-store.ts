import type { MembershipStore } from '../membership/membership-store.js';
import type { SqlClient } from '../membership/ports.js';
import { defaultMaxBakeSeconds } from './plan-input.js';
import type { PlanInput } from './plan-input.js';
import { MAX_VERDICTS, stepOf } from './plan.js';
import type { Plan, PlanState, PlanStep, PlanVerdict } from './plan.js';
import { changeOfVerb } from './plan-change.js';
import type { PlanChange, PlanVerb } from './plan-change.js';
import { PLAN_SQL } from './plan-sql.js';

interface PlanRow extends Record<string, unknown> {
  id: string | number;
  state: string;
  steps: unknown;
  max_bake_seconds: number;
  current_step: number;
  step_applied: boolean;
  step_started_at: Date | string | null;
  bake_ends_at: Date | string | null;
  applied_basis_points: number | null;
  rollout_before: number;
  hold_reason: string | null;
  verdicts: unknown;
  version: number;
  started_at: Date | string;
  started_by: string;
  updated_at: Date | string;
  ended_at: Date | string | null;
}

const STATES = new Set<string>(['running', 'held', 'completed', 'aborted']);

function ms(value: Date | string | null): number | null {
  if (value === null) return null;
  return value instanceof Date ? value.getTime() : Date.parse(value);
}

function iso(value: Date | string): string {
  return new Date(ms(value) ?? 0).toISOString();
}

function json(value: unknown): unknown {
  return typeof value === 'string' ? (JSON.parse(value) as unknown) : value;
}

function stepsOf(value: unknown): PlanStep[] {
  const list = json(value);
  if (!Array.isArray(list)) throw new Error('canary_plan.steps is not a list');
  return list as PlanStep[];
}

/** A plan from its row (steps and verdicts are written by this module only). */
function planOf(row: PlanRow): Plan {
  if (!STATES.has(row.state)) throw new Error(`canary_plan.state ${row.state} is not a plan state`);
  const verdicts = json(row.verdicts);
  return {
    id: Number(row.id),
    state: row.state as PlanState,
    steps: stepsOf(row.steps),
    maxBakeSeconds: row.max_bake_seconds,
    currentStep: row.current_step,
    stepApplied: row.step_applied,
    stepStartedAtMs: ms(row.step_started_at),
    bakeEndsAtMs: ms(row.bake_ends_at),
    appliedBasisPoints: row.applied_basis_points,
    rolloutBefore: row.rollout_before,
    holdReason: row.hold_reason,
    verdicts: Array.isArray(verdicts) ? (verdicts as PlanVerdict[]) : [],
    version: row.version,
    startedAt: iso(row.started_at),
    startedBy: row.started_by,
    updatedAt: iso(row.updated_at),
    endedAt: row.ended_at === null ? null : iso(row.ended_at),
  };
}

/** A committed plan change, its audit entry, and whether the routing cache followed the rollout it set. */
export interface AppliedPlanChange {
  plan: Plan;
  auditId: number;
  /** False when the change set the rollout and Redis did not take the invalidation (edges follow within 60 s). */
  invalidated: boolean;
}

/** The outcome of a verb: done, no plan at all, or the plan's state does not allow it. */
export type VerbResult = { kind: 'ok'; applied: AppliedPlanChange } | { kind: 'not_found' } | { kind: 'conflict'; message: string };

/**
 * Release plans in Postgres (DESIGN §8): starting one, reading the current one, and changing it — from the judge's tick
 * (transitions by actor `plan`) or an operator's verb — each change one statement with its audit entry, from the
 * version it was read at. A change that sets the rollout invalidates the routing cache like any rollout change.
 */
export class PlanStore {
  readonly #sql: SqlClient;
  readonly #membership: Pick<MembershipStore, 'follow'>;

  constructor(options: { sql: SqlClient; membership: Pick<MembershipStore, 'follow'> }) {
    this.#sql = options.sql;
    this.#membership = options.membership;
  }

  /** Starts a plan; null when another plan is active (exactly one of concurrent starts wins). */
  async start(input: PlanInput, actor: string): Promise<Plan | null> {
    const steps = input.steps.map(stepOf);
    const maxBake = input.maxBakeSeconds ?? defaultMaxBakeSeconds(input.steps);
    const row = (await this.#sql.query<PlanRow>(PLAN_SQL.start, [JSON.stringify(steps), maxBake, actor, input.reason ?? null]))[0];
    return row === undefined ? null : planOf(row);
  }

  /** The latest plan, finished ones included; null when none was ever started. */
  async current(): Promise<Plan | null> {
    const row = (await this.#sql.query<PlanRow>(PLAN_SQL.current, []))[0];
    return row === undefined ? null : planOf(row);
  }

  /** Writes a change made from `plan` as read; null when the plan changed meanwhile (nothing written). */
  async apply(plan: Plan, change: PlanChange, actor: string, verdicts: readonly PlanVerdict[] = plan.verdicts): Promise<AppliedPlanChange | null> {
    const isoOf = (value: number | null): string | null => (value === null ? null : new Date(value).toISOString());
    const row = (
      await this.#sql.query<PlanRow & { audit_id: string | number; rollout_set: number | null }>(PLAN_SQL.transition, [
        plan.id,
        plan.version,
        change.state,
        change.currentStep,
        change.stepApplied,
        isoOf(change.stepStartedAtMs),
        isoOf(change.bakeEndsAtMs),
        change.appliedBasisPoints,
        change.holdReason,
        change.rolloutBasisPoints,
        actor,
        change.action,
        change.reason.slice(0, 500),
        JSON.stringify(change.after),
        JSON.stringify(verdicts.slice(-MAX_VERDICTS)),
      ])
    )[0];
    if (row === undefined) return null;
    const invalidated = row.rollout_set === null ? true : await this.#membership.follow({ scope: 'all' });
    return { plan: planOf(row), auditId: Number(row.audit_id), invalidated };
  }

  /** Keeps a tick's verdict on a running plan (no transition). */
  async recordVerdicts(plan: Plan, verdicts: readonly PlanVerdict[]): Promise<void> {
    await this.#sql.query(PLAN_SQL.verdicts, [plan.id, JSON.stringify(verdicts.slice(-MAX_VERDICTS))]);
  }

  /** An operator's verb on the current plan; retried once when a tick changed the plan meanwhile. */
  async verb(verb: PlanVerb, actor: string, reason: string | null, nowMs = Date.now()): Promise<VerbResult> {
    for (let attempt = 0; ; attempt++) {
      const plan = await this.current();
      if (plan === null) return { kind: 'not_found' };
      const change = changeOfVerb(plan, verb, nowMs, actor, reason);
      if ('conflict' in change) return { kind: 'conflict', message: change.conflict };
      const applied = await this.apply(plan, change, actor);
      if (applied !== null) return { kind: 'ok', applied };
      if (attempt >= 1) return { kind: 'conflict', message: `Plan ${plan.id} changed while the ${verb} was being written; look at it again and retry.` };
    }
  }

  /** Platforms with an explicit choice (a rollout step does not move them). */
  async explicitPlatforms(): Promise<Set<string>> {
    const rows = await this.#sql.query<{ platform_id: string }>(PLAN_SQL.explicitPlatforms, []);
    return new Set(rows.map((r) => r.platform_id));
  }
}
