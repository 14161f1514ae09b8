import { describe, expect, it } from 'vitest';
import { advancePlan } from '../../core/plans/plan-advance.js';
import type { AdvanceContext, TickVerdict } from '../../core/plans/plan-advance.js';
import { changeOfTransition, changeOfVerb } from '../../core/plans/plan-change.js';
import type { Plan, PlanStep } from '../../core/plans/plan.js';

// The plan's rule as a table: one tick's transition from the plan, the rollout and the judge's verdict.

const NOW = 1_000_000;
const pct = (percent: number, bakeSeconds = 60): PlanStep => ({ kind: 'percent', percent, bakeSeconds });

function plan(overrides: Partial<Plan> = {}): Plan {
  return {
    id: 7,
    state: 'running',
    steps: [pct(10), pct(50), pct(100, 0)],
    maxBakeSeconds: 600,
    currentStep: 0,
    stepApplied: false,
    stepStartedAtMs: null,
    bakeEndsAtMs: null,
    appliedBasisPoints: null,
    rolloutBefore: 0,
    holdReason: null,
    verdicts: [],
    version: 1,
    startedAt: '2026-12-05T00:00:00.000Z',
    startedBy: 'api:ops',
    updatedAt: '2026-12-05T00:00:00.000Z',
    endedAt: null,
    ...overrides,
  };
}

const judged = (verdict: TickVerdict['verdict'], action: TickVerdict['action'] = 'none'): TickVerdict => ({ verdict, action, reason: verdict === 'fail' ? 'requestErrors: canary 9% above 1%' : null });

function ctx(overrides: Partial<AdvanceContext> & { bp?: number; paused?: boolean } = {}): AdvanceContext {
  return {
    nowMs: NOW,
    rollout: { basisPoints: overrides.bp ?? 1000, paused: overrides.paused ?? false, updatedBy: 'plan' },
    judge: judged('pass'),
    basisPointsOf: (step) => (step.kind === 'percent' ? step.percent * 100 : step.kind === 'traffic' ? 700 : null),
    ...overrides,
  };
}

/** Step `i` applied at `basisPoints`, its bake ending `endsInMs` from NOW. */
const baking = (i: number, basisPoints: number, endsInMs: number, startedMsAgo = 60_000): Partial<Plan> => ({
  currentStep: i,
  stepApplied: true,
  appliedBasisPoints: basisPoints,
  stepStartedAtMs: NOW - startedMsAgo,
  bakeEndsAtMs: NOW + endsInMs,
});

describe('a running plan, tick by tick', () => {
  it('applies its first step: the rollout and the bake', () => {
    expect(advancePlan(plan(), ctx({ bp: 0 }))).toMatchObject({ kind: 'apply-step', step: 0, basisPoints: 1000, bakeEndsAtMs: NOW + 60_000 });
  });

  it('never sets a step lower than the rollout it found', () => {
    expect(advancePlan(plan({ rolloutBefore: 2500 }), ctx({ bp: 2500 }))).toMatchObject({ kind: 'apply-step', basisPoints: 2500 });
  });

  it('waits while the step bakes, whatever the judge says short of a broad failure', () => {
    for (const v of [judged('pass'), judged('inconclusive'), judged('fail', 'quarantined')]) {
      expect(advancePlan(plan(baking(0, 1000, 5_000)), ctx({ judge: v }))).toEqual({ kind: 'none' });
    }
  });

  it('advances to the next step when the bake is over and the judge passes', () => {
    expect(advancePlan(plan(baking(0, 1000, 0)), ctx())).toMatchObject({ kind: 'apply-step', step: 1, basisPoints: 5000 });
  });

  it('completes after the last step passes', () => {
    expect(advancePlan(plan(baking(2, 10_000, 0)), ctx({ bp: 10_000 }))).toMatchObject({ kind: 'complete' });
  });

  it('extends an inconclusive bake up to maxBakeSeconds, then holds and says why', () => {
    expect(advancePlan(plan(baking(0, 1000, -1, 300_000)), ctx({ judge: judged('inconclusive') }))).toEqual({ kind: 'none' });
    const held = advancePlan(plan(baking(0, 1000, -1, 600_000)), ctx({ judge: judged('inconclusive') }));
    expect(held).toMatchObject({ kind: 'hold' });
    expect(held.kind === 'hold' && held.reason).toMatch(/inconclusive, not pass, for maxBakeSeconds \(600 s\)/);
  });

  it('goes on after a concentrated failure (the judge quarantined): it advances only on a later pass', () => {
    expect(advancePlan(plan(baking(0, 1000, 0)), ctx({ judge: judged('fail', 'quarantined') }))).toEqual({ kind: 'none' });
  });

  it('aborts on a broad failure (the judge paused on this tick), restoring the rollout it found', () => {
    expect(advancePlan(plan({ ...baking(1, 5000, 5_000), rolloutBefore: 200 }), ctx({ bp: 5000, judge: judged('fail', 'paused') }))).toMatchObject({
      kind: 'abort',
      restoreBasisPoints: 200,
      reason: expect.stringContaining('the judge paused canary routing: requestErrors'),
    });
  });

  it('holds when routing is paused by someone else, or the rollout is not the one it set', () => {
    expect(advancePlan(plan(baking(0, 1000, 5_000)), ctx({ paused: true }))).toMatchObject({ kind: 'hold', reason: expect.stringContaining('paused') });
    expect(advancePlan(plan(baking(0, 1000, 5_000)), ctx({ bp: 2000 }))).toMatchObject({ kind: 'hold', reason: expect.stringContaining('changed to 20%') });
  });

  it('waits at an approval step, and goes on once approved', () => {
    const gated = plan({ ...baking(0, 1000, 0), steps: [pct(10), { kind: 'approval' }, pct(50)] });
    expect(advancePlan(gated, ctx())).toMatchObject({ kind: 'await-approval', step: 1 });
    const approved = plan({ ...gated, currentStep: 1, stepApplied: true, bakeEndsAtMs: null });
    expect(advancePlan(approved, ctx())).toMatchObject({ kind: 'apply-step', step: 2, basisPoints: 5000 });
  });

  it('sizes a traffic step by what the tick computed, never lower than the step before, and holds when it cannot be sized', () => {
    const traffic: PlanStep = { kind: 'traffic', trafficPercent: 10, bakeSeconds: 60 };
    expect(advancePlan(plan({ ...baking(0, 1000, 0), steps: [pct(10), traffic] }), ctx())).toMatchObject({ kind: 'apply-step', basisPoints: 1000 });
    expect(advancePlan(plan({ ...baking(0, 500, 0), steps: [pct(5), traffic] }), ctx({ bp: 500 }))).toMatchObject({ kind: 'apply-step', basisPoints: 700 });
    expect(advancePlan(plan({ steps: [traffic] }), ctx({ basisPointsOf: () => null }))).toMatchObject({ kind: 'hold', reason: expect.stringContaining('no requests were recorded') });
  });

  it('does nothing to a plan that is not running', () => {
    for (const state of ['held', 'completed', 'aborted'] as const) expect(advancePlan(plan({ state }), ctx({ judge: judged('fail', 'paused') }))).toEqual({ kind: 'none' });
  });
});

describe('what a transition stores', () => {
  it('an applied step sets the rollout it applies and starts the bake', () => {
    const change = changeOfTransition(plan(), { kind: 'apply-step', step: 0, basisPoints: 1000, bakeEndsAtMs: NOW + 60_000, reason: 'r' }, NOW);
    expect(change).toMatchObject({ state: 'running', currentStep: 0, stepApplied: true, stepStartedAtMs: NOW, appliedBasisPoints: 1000, rolloutBasisPoints: 1000, action: 'plan-step' });
  });

  it('an abort ends the plan and puts the rollout back', () => {
    expect(changeOfTransition(plan({ rolloutBefore: 300 }), { kind: 'abort', reason: 'r', restoreBasisPoints: 300 }, NOW)).toMatchObject({ state: 'aborted', rolloutBasisPoints: 300, action: 'plan-abort' });
  });
});

describe("an operator's verbs", () => {
  const held = plan({ ...baking(1, 1000, 0), state: 'held', steps: [pct(10), { kind: 'approval' }, pct(50)], holdReason: 'waiting for an approval (step 2)' });

  it('approve lets a plan waiting at an approval go on; it is a conflict anywhere else', () => {
    expect(changeOfVerb(held, 'approve', NOW, 'api:ops', null)).toMatchObject({ state: 'running', holdReason: null, action: 'plan-approve' });
    expect(changeOfVerb(plan(baking(0, 1000, 5_000)), 'approve', NOW, 'api:ops', null)).toMatchObject({ conflict: expect.stringContaining('No approval is pending') });
  });

  it('promote ends a running bake now; there must be one', () => {
    expect(changeOfVerb(plan(baking(0, 1000, 5_000)), 'promote', NOW, 'api:ops', 'looks good')).toMatchObject({ bakeEndsAtMs: NOW, action: 'plan-promote', reason: 'the bake of step 1 ended by api:ops: looks good' });
    expect(changeOfVerb(plan(baking(0, 1000, -5)), 'promote', NOW, 'api:ops', null)).toHaveProperty('conflict');
  });

  it('hold and resume: resume enters the current step again (rollout set again, bake restarted)', () => {
    expect(changeOfVerb(plan(baking(0, 1000, 5_000)), 'hold', NOW, 'api:ops', null)).toMatchObject({ state: 'held', action: 'plan-hold' });
    expect(changeOfVerb(plan({ ...baking(0, 1000, 5_000), state: 'held' }), 'resume', NOW, 'api:ops', null)).toMatchObject({ state: 'running', stepApplied: false, action: 'plan-resume' });
    expect(changeOfVerb(plan(), 'resume', NOW, 'api:ops', null)).toHaveProperty('conflict');
  });

  it('abort ends an active plan and restores the rollout; a finished plan cannot be aborted', () => {
    expect(changeOfVerb(plan({ ...baking(1, 5000, 5_000), rolloutBefore: 100 }), 'abort', NOW, 'api:ops', null)).toMatchObject({ state: 'aborted', rolloutBasisPoints: 100 });
    expect(changeOfVerb(plan({ state: 'completed' }), 'abort', NOW, 'api:ops', null)).toHaveProperty('conflict');
  });
});
