import { basisPointsToPercent } from '../rollout/bucket.js';
import type { PlanStepInput } from './plan-input.js';

/** A release plan's state (DESIGN §8). `running` and `held` are active; at most one plan is active. */
export type PlanState = 'running' | 'held' | 'completed' | 'aborted';

/** One step, typed: a rollout percentage, a share of traffic, or an approval gate. */
export type PlanStep = { kind: 'percent'; percent: number; bakeSeconds: number } | { kind: 'traffic'; trafficPercent: number; bakeSeconds: number } | { kind: 'approval' };

/** One tick's verdict as the plan keeps it (the last MAX_VERDICTS). */
export interface PlanVerdict {
  at: string;
  step: number;
  verdict: string;
  action: string;
  reason: string | null;
}

/** Verdicts a plan keeps (oldest dropped first). */
export const MAX_VERDICTS = 20;

/** A plan as stored. Times are epoch ms. */
export interface Plan {
  id: number;
  state: PlanState;
  steps: PlanStep[];
  maxBakeSeconds: number;
  currentStep: number;
  /** The current step's rollout is set (or, for an approval step, the plan is waiting on it). */
  stepApplied: boolean;
  stepStartedAtMs: number | null;
  bakeEndsAtMs: number | null;
  /** The rollout the plan last set, in basis points (null before its first step). */
  appliedBasisPoints: number | null;
  /** The rollout when the plan started: what an abort restores. */
  rolloutBefore: number;
  holdReason: string | null;
  verdicts: PlanVerdict[];
  version: number;
  startedAt: string;
  startedBy: string;
  updatedAt: string;
  endedAt: string | null;
}

/** The step from its API shape. */
export function stepOf(input: PlanStepInput): PlanStep {
  if (input.percent !== undefined) return { kind: 'percent', percent: input.percent, bakeSeconds: input.bakeSeconds ?? 0 };
  if (input.trafficPercent !== undefined) return { kind: 'traffic', trafficPercent: input.trafficPercent, bakeSeconds: input.bakeSeconds ?? 0 };
  return { kind: 'approval' };
}

/** The step in its API shape. */
export function stepInputOf(step: PlanStep): PlanStepInput {
  if (step.kind === 'percent') return { percent: step.percent, bakeSeconds: step.bakeSeconds };
  if (step.kind === 'traffic') return { trafficPercent: step.trafficPercent, bakeSeconds: step.bakeSeconds };
  return { approval: true };
}

/** The plan as the API answers it (`GET /v1/admin/canary/plans/current`). */
export interface PlanView {
  id: number;
  state: PlanState;
  steps: PlanStepInput[];
  currentStep: number;
  /** When the current step's bake ends (ISO), or null (not baking: waiting, held, over). */
  bakeEndsAt: string | null;
  verdicts: PlanVerdict[];
  maxBakeSeconds: number;
  holdReason: string | null;
  /** The rollout the plan last set, and the one it found (what an abort restores), in percent. */
  appliedPercent: number | null;
  rolloutBeforePercent: number;
  startedAt: string;
  startedBy: string;
  updatedAt: string;
  endedAt: string | null;
}

/** The API's view of a plan. */
export function planView(plan: Plan): PlanView {
  return {
    id: plan.id,
    state: plan.state,
    steps: plan.steps.map(stepInputOf),
    currentStep: plan.currentStep,
    bakeEndsAt: plan.state === 'running' && plan.stepApplied && plan.bakeEndsAtMs !== null ? new Date(plan.bakeEndsAtMs).toISOString() : null,
    verdicts: plan.verdicts,
    maxBakeSeconds: plan.maxBakeSeconds,
    holdReason: plan.holdReason,
    appliedPercent: plan.appliedBasisPoints === null ? null : basisPointsToPercent(plan.appliedBasisPoints),
    rolloutBeforePercent: basisPointsToPercent(plan.rolloutBefore),
    startedAt: plan.startedAt,
    startedBy: plan.startedBy,
    updatedAt: plan.updatedAt,
    endedAt: plan.endedAt,
  };
}

/** One line for people about a step (`25%`, `10% of traffic`, `approval`). */
export function describeStep(step: PlanStep | undefined): string {
  if (step === undefined) return 'none';
  if (step.kind === 'percent') return `${step.percent}%`;
  if (step.kind === 'traffic') return `${step.trafficPercent}% of traffic`;
  return 'approval';
}
