import { basisPointsToPercent } from '../rollout/bucket.js';
import { describeStep } from './plan.js';
import type { Plan, PlanStep } from './plan.js';

/** What the judge said on this tick (its record), as far as a plan cares. */
export interface TickVerdict {
  verdict: 'pass' | 'fail' | 'inconclusive' | 'paused' | 'disabled' | 'error';
  /** `paused`: the judge paused canary routing on this tick (a broad failure). */
  action: 'none' | 'paused' | 'quarantined';
  /** The judge's reason for a failure, for the plan's audit entry and notification. */
  reason: string | null;
}

/** What the tick knows when it advances a plan. */
export interface AdvanceContext {
  nowMs: number;
  rollout: { basisPoints: number; paused: boolean; updatedBy: string };
  judge: TickVerdict;
  /**
   * The basis points a rollout step sets, before the never-lower rule (a traffic step: the share of the last 24 hours'
   * requests, computed by the tick); null when it cannot be told (no traffic recorded), which holds the plan.
   */
  basisPointsOf(step: PlanStep): number | null;
}

/** The one change a tick makes to a running plan (each is one audit entry), or none. */
export type PlanTransition =
  | { kind: 'none' }
  /** Sets step `step`'s rollout and starts its bake (`from` the step before it, whose bake passed; or the same step). */
  | { kind: 'apply-step'; step: number; basisPoints: number; bakeEndsAtMs: number; reason: string }
  /** Reaches approval step `step`: the plan holds until approved. */
  | { kind: 'await-approval'; step: number; reason: string }
  | { kind: 'complete'; reason: string }
  | { kind: 'hold'; reason: string }
  /** Ends the plan and puts the rollout back to where the plan found it. */
  | { kind: 'abort'; reason: string; restoreBasisPoints: number };

function percentText(basisPoints: number): string {
  return `${basisPointsToPercent(basisPoints)}%`;
}

/** Enters step `index` (applying its rollout, or waiting for its approval), or completes the plan after the last. */
function enter(plan: Plan, index: number, ctx: AdvanceContext, why: string): PlanTransition {
  const step = plan.steps[index];
  if (step === undefined) return { kind: 'complete', reason: `${why}; every step is done (rollout ${percentText(plan.appliedBasisPoints ?? ctx.rollout.basisPoints)})` };
  if (step.kind === 'approval') return { kind: 'await-approval', step: index, reason: `${why}; step ${index + 1} waits for an approval` };
  const wanted = ctx.basisPointsOf(step);
  if (wanted === null) return { kind: 'hold', reason: `step ${index + 1} (${describeStep(step)}) cannot be sized: no requests were recorded in the last 24 hours` };
  // Steps never go down: not below the step before, nor below the rollout as it is now (the plan found it so, or an
  // operator raised it before resuming the plan).
  const basisPoints = Math.max(wanted, plan.appliedBasisPoints ?? plan.rolloutBefore, ctx.rollout.basisPoints);
  return {
    kind: 'apply-step',
    step: index,
    basisPoints,
    bakeEndsAtMs: ctx.nowMs + step.bakeSeconds * 1000,
    reason: `${why}; step ${index + 1} (${describeStep(step)}): rollout ${percentText(basisPoints)}, bake ${step.bakeSeconds} s`,
  };
}

/**
 * The plan's next transition on this tick (DESIGN §8), pure: a broad failure (the judge paused on this tick) aborts;
 * a pause or a rollout that is not the plan's holds; a step not yet applied is applied; after its bake, the judge's
 * `pass` advances, anything else extends the bake up to `maxBakeSeconds`, then holds. A concentrated failure (a
 * quarantine) is not the plan's business: the judge handled it and the bake goes on.
 */
export function advancePlan(plan: Plan, ctx: AdvanceContext): PlanTransition {
  if (plan.state !== 'running') return { kind: 'none' };
  if (ctx.judge.action === 'paused') {
    return { kind: 'abort', reason: `the judge paused canary routing: ${ctx.judge.reason ?? 'a broad failure'}`, restoreBasisPoints: plan.rolloutBefore };
  }
  if (ctx.rollout.paused) return { kind: 'hold', reason: `canary routing is paused (by ${ctx.rollout.updatedBy}); resume routing, then the plan` };
  if (plan.stepApplied && plan.appliedBasisPoints !== null && ctx.rollout.basisPoints !== plan.appliedBasisPoints) {
    return { kind: 'hold', reason: `the rollout was changed to ${percentText(ctx.rollout.basisPoints)} by ${ctx.rollout.updatedBy} (the plan had set ${percentText(plan.appliedBasisPoints)})` };
  }
  const step = plan.steps[plan.currentStep];
  if (step === undefined) return { kind: 'complete', reason: 'every step is done' };
  if (!plan.stepApplied) return enter(plan, plan.currentStep, ctx, 'plan running');
  if (step.kind === 'approval') return enter(plan, plan.currentStep + 1, ctx, `step ${plan.currentStep + 1} approved`);
  if (plan.bakeEndsAtMs !== null && ctx.nowMs < plan.bakeEndsAtMs) return { kind: 'none' };
  if (ctx.judge.verdict === 'pass') return enter(plan, plan.currentStep + 1, ctx, `step ${plan.currentStep + 1} (${describeStep(step)}) baked and the judge passed it`);
  const started = plan.stepStartedAtMs ?? ctx.nowMs;
  if (ctx.nowMs - started >= plan.maxBakeSeconds * 1000) {
    return { kind: 'hold', reason: `step ${plan.currentStep + 1} (${describeStep(step)}): the judge said ${ctx.judge.verdict}, not pass, for maxBakeSeconds (${plan.maxBakeSeconds} s)` };
  }
  return { kind: 'none' };
}
