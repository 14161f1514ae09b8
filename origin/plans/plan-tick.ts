import type { JudgeRecord } from '../../core/judge/judge-record.js';
import type { CanaryControl } from '../../core/membership/index.js';
import { advancePlan } from '../../core/plans/plan-advance.js';
import type { PlanTransition, TickVerdict } from '../../core/plans/plan-advance.js';
import { changeOfTransition } from '../../core/plans/plan-change.js';
import { basisPointsForShare } from '../../core/plans/traffic-share.js';
import type { TrafficWindow } from '../../core/plans/traffic-share.js';
import type { Plan, PlanStep, PlanVerdict } from '../../core/plans/plan.js';
import type { PlanStore } from '../../core/plans/plan-store.js';
import { percentToBasisPoints, rolloutBucket } from '../../core/rollout/bucket.js';
import type { Logger } from '../logger.js';

/** Who a plan's automatic transitions are in the audit log (reserved: no API caller can record under it). */
export const PLAN_ACTOR = 'plan';

export interface PlanTickDeps {
  plans: Pick<PlanStore, 'current' | 'apply' | 'recordVerdicts' | 'explicitPlatforms'>;
  control: Pick<CanaryControl, 'rollout'>;
  /** The last 24 hours of requests per platform (Redis). */
  readTraffic(nowMs: number): Promise<TrafficWindow>;
  logger: Logger;
}

/** What a plan tick did: the plan it read (null: none running) and its transition. */
export interface PlanTickResult {
  plan: Plan | null;
  transition: PlanTransition;
}

/** The judge's record as the plan reads it: its verdict, its action, and the reasons of the metrics that failed. */
export function tickVerdictOf(record: JudgeRecord): TickVerdict {
  const failing = record.metrics === null ? [] : Object.values(record.metrics).filter((m) => m.verdict === 'fail');
  return { verdict: record.verdict, action: record.action, reason: failing.length === 0 ? record.problem : failing.map((m) => `${m.metric}: ${m.reason}`).join('; ') };
}

/**
 * One plan tick, right after the judge's (DESIGN §8): reads the running plan and the rollout (Postgres), sizes the
 * traffic steps it may enter (Redis: the last 24 hours of requests), decides the transition (core/plans/plan-advance.ts)
 * and writes it with its audit entry by `plan` — or only the tick's verdict when nothing changes. A held plan waits
 * for an operator. Throws when a store fails (the tick's job logs it; the next tick tries again).
 */
export async function runPlanTick(deps: PlanTickDeps, record: JudgeRecord, nowMs = Date.now()): Promise<PlanTickResult> {
  const plan = await deps.plans.current();
  if (plan === null || plan.state !== 'running') return { plan, transition: { kind: 'none' } };
  const rollout = await deps.control.rollout();
  const judge = tickVerdictOf(record);
  // Traffic steps are sized only when the plan may enter one on this tick.
  const traffic = new Map<PlanStep, number | null>();
  const entering = !plan.stepApplied || plan.steps[plan.currentStep]?.kind === 'approval' || (plan.bakeEndsAtMs !== null && nowMs >= plan.bakeEndsAtMs);
  const candidates = entering ? [plan.steps[plan.currentStep], plan.steps[plan.currentStep + 1]] : [];
  if (candidates.some((s) => s?.kind === 'traffic')) {
    const [window, explicit] = await Promise.all([deps.readTraffic(nowMs), deps.plans.explicitPlatforms()]);
    for (const step of candidates) {
      if (step?.kind !== 'traffic') continue;
      traffic.set(step, await basisPointsForShare(window, step.trafficPercent, explicit, (id) => rolloutBucket(rollout.salt, id)));
    }
  }
  const transition = advancePlan(plan, {
    nowMs,
    rollout: { basisPoints: rollout.basisPoints, paused: rollout.paused, updatedBy: rollout.updatedBy },
    judge,
    basisPointsOf: (step) => (step.kind === 'percent' ? percentToBasisPoints(step.percent) : step.kind === 'traffic' ? (traffic.get(step) ?? null) : null),
  });
  const verdict: PlanVerdict = { at: new Date(nowMs).toISOString(), step: plan.currentStep, verdict: judge.verdict, action: record.action, reason: judge.reason };
  const verdicts = [...plan.verdicts, verdict];
  const change = changeOfTransition(plan, transition, nowMs);
  if (change === null) {
    await deps.plans.recordVerdicts(plan, verdicts);
    return { plan, transition };
  }
  const applied = await deps.plans.apply(plan, change, PLAN_ACTOR, verdicts);
  if (applied === null) {
    deps.logger.info('plan changed by an operator during the tick; its transition waits for the next tick', { planId: plan.id });
    return { plan, transition: { kind: 'none' } };
  }
  deps.logger.info('plan transition', { at: new Date(nowMs).toISOString(), planId: plan.id, transition: transition.kind, state: applied.plan.state, step: applied.plan.currentStep, rolloutBasisPoints: change.rolloutBasisPoints, reason: change.reason });
  if (!applied.invalidated) deps.logger.error('the plan set the rollout in Postgres but could not invalidate the routing cache; edges follow within 60 s', { planId: plan.id });
  return { plan: applied.plan, transition };
}
