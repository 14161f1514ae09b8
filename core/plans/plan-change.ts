import { describeStep } from './plan.js';
import type { Plan, PlanState } from './plan.js';
import type { PlanTransition } from './plan-advance.js';
import type { PlanAction } from './plan-sql.js';

/** A plan's next stored fields, the rollout to set with them (null: leave it) and its audit entry. */
export interface PlanChange {
  state: PlanState;
  currentStep: number;
  stepApplied: boolean;
  stepStartedAtMs: number | null;
  bakeEndsAtMs: number | null;
  appliedBasisPoints: number | null;
  holdReason: string | null;
  rolloutBasisPoints: number | null;
  action: PlanAction;
  reason: string;
  after: Record<string, unknown>;
}

/** An operator's verb on the current plan (`POST /v1/admin/canary/plans/current/<verb>`). */
export type PlanVerb = 'approve' | 'promote' | 'hold' | 'resume' | 'abort';
export const PLAN_VERBS: readonly PlanVerb[] = ['approve', 'promote', 'hold', 'resume', 'abort'];

function unchanged(plan: Plan): Omit<PlanChange, 'action' | 'reason' | 'after'> {
  return {
    state: plan.state,
    currentStep: plan.currentStep,
    stepApplied: plan.stepApplied,
    stepStartedAtMs: plan.stepStartedAtMs,
    bakeEndsAtMs: plan.bakeEndsAtMs,
    appliedBasisPoints: plan.appliedBasisPoints,
    holdReason: plan.holdReason,
    rolloutBasisPoints: null,
  };
}

/** The stored change a tick's transition makes (null for `none`). */
export function changeOfTransition(plan: Plan, t: PlanTransition, nowMs: number): PlanChange | null {
  const base = unchanged(plan);
  switch (t.kind) {
    case 'none':
      return null;
    case 'apply-step':
      return {
        ...base,
        currentStep: t.step,
        stepApplied: true,
        stepStartedAtMs: nowMs,
        bakeEndsAtMs: t.bakeEndsAtMs,
        appliedBasisPoints: t.basisPoints,
        rolloutBasisPoints: t.basisPoints,
        action: 'plan-step',
        reason: t.reason,
        after: { basisPoints: t.basisPoints },
      };
    case 'await-approval':
      return { ...base, state: 'held', currentStep: t.step, stepApplied: true, stepStartedAtMs: nowMs, bakeEndsAtMs: null, holdReason: `waiting for an approval (step ${t.step + 1})`, action: 'plan-approval', reason: t.reason, after: {} };
    case 'complete':
      return { ...base, state: 'completed', currentStep: plan.steps.length, holdReason: null, action: 'plan-complete', reason: t.reason, after: {} };
    case 'hold':
      return { ...base, state: 'held', holdReason: t.reason, action: 'plan-hold', reason: t.reason, after: {} };
    case 'abort':
      return { ...base, state: 'aborted', holdReason: null, rolloutBasisPoints: t.restoreBasisPoints, action: 'plan-abort', reason: t.reason, after: { restoredBasisPoints: t.restoreBasisPoints } };
  }
}

/** What an operator's verb does to the plan, or why it cannot (the plan's state says no: 409). */
export function changeOfVerb(plan: Plan, verb: PlanVerb, nowMs: number, actor: string, reason: string | null): PlanChange | { conflict: string } {
  const base = unchanged(plan);
  const step = plan.steps[plan.currentStep];
  const why = (text: string): string => (reason === null ? `${text} by ${actor}` : `${text} by ${actor}: ${reason}`);
  const where = `plan ${plan.id} is ${plan.state} at step ${plan.currentStep + 1} (${describeStep(step)})`;
  switch (verb) {
    case 'approve':
      if (plan.state !== 'held' || step?.kind !== 'approval' || !plan.stepApplied) return { conflict: `No approval is pending: ${where}.` };
      return { ...base, state: 'running', holdReason: null, action: 'plan-approve', reason: why(`step ${plan.currentStep + 1} approved`), after: {} };
    case 'promote':
      if (plan.state !== 'running' || step === undefined || step.kind === 'approval' || !plan.stepApplied || plan.bakeEndsAtMs === null || plan.bakeEndsAtMs <= nowMs) {
        return { conflict: `No bake to end: ${where}.` };
      }
      return { ...base, bakeEndsAtMs: nowMs, action: 'plan-promote', reason: why(`the bake of step ${plan.currentStep + 1} ended`), after: {} };
    case 'hold':
      if (plan.state !== 'running') return { conflict: `Only a running plan can be held: ${where}.` };
      return { ...base, state: 'held', holdReason: why('held'), action: 'plan-hold', reason: why('held'), after: {} };
    case 'resume':
      if (plan.state !== 'held') return { conflict: `Only a held plan can be resumed: ${where}.` };
      // The step is entered again: its rollout set again (whatever was changed meanwhile), its bake started again,
      // an approval asked again.
      return { ...base, state: 'running', stepApplied: false, holdReason: null, action: 'plan-resume', reason: why('resumed'), after: {} };
    case 'abort':
      if (plan.state !== 'running' && plan.state !== 'held') return { conflict: `The plan is already over: ${where}.` };
      return {
        ...base,
        state: 'aborted',
        holdReason: null,
        rolloutBasisPoints: plan.rolloutBefore,
        action: 'plan-abort',
        reason: why('aborted'),
        after: { restoredBasisPoints: plan.rolloutBefore },
      };
  }
}
