import { z } from 'zod/mini';
import { percentInput, reasonInput } from '../operator/inputs.js';

/** Longest bake a step may have, and the longest a plan may extend one: 7 days (contract). */
export const MAX_BAKE_SECONDS = 604_800;
export const BAKE_RULE = `must be a whole number of seconds from 0 to ${MAX_BAKE_SECONDS} (7 days)`;
/** Most steps a plan may have (a plan is read and written whole on every tick). */
export const MAX_PLAN_STEPS = 50;

const bakeInput = () => z.number({ error: BAKE_RULE }).check(z.int(BAKE_RULE), z.gte(0, BAKE_RULE), z.lte(MAX_BAKE_SECONDS, BAKE_RULE));

const STEP_SHAPES = 'must be {"percent", "bakeSeconds"}, {"trafficPercent", "bakeSeconds"} or {"approval": true}';

/** One step of a plan, as the API takes it (DESIGN §8). Unknown fields are refused; every problem names its field. */
export const PLAN_STEP_INPUT = z
  .strictObject({
    percent: z.optional(percentInput()),
    trafficPercent: z.optional(percentInput()),
    approval: z.optional(z.literal(true, { error: 'must be true' })),
    bakeSeconds: z.optional(bakeInput()),
  })
  .check(
    z.superRefine((step, ctx) => {
      const kinds = [step.percent, step.trafficPercent, step.approval].filter((v) => v !== undefined).length;
      if (kinds !== 1) ctx.addIssue({ code: 'custom', path: [], message: STEP_SHAPES });
      else if (step.approval === undefined && step.bakeSeconds === undefined) ctx.addIssue({ code: 'custom', path: ['bakeSeconds'], message: `is required: ${BAKE_RULE}` });
      else if (step.approval !== undefined && step.bakeSeconds !== undefined) ctx.addIssue({ code: 'custom', path: ['bakeSeconds'], message: 'has no meaning on an approval step' });
    }),
  );

/** `POST /v1/admin/canary/plans`. */
export const PLAN_INPUT = z
  .strictObject({
    steps: z.array(PLAN_STEP_INPUT, { error: 'must be a list of steps' }).check(
      z.minLength(1, 'must have at least one step'),
      z.maxLength(MAX_PLAN_STEPS, `must have at most ${MAX_PLAN_STEPS} steps`),
    ),
    maxBakeSeconds: z.optional(bakeInput()),
    reason: reasonInput(),
  })
  .check(
    z.superRefine((plan, ctx) => {
      // Steps never go down, within each kind (a traffic step's percentage is only known when it is applied: the tick
      // never sets one lower than the step before, whatever the kind).
      const last: { percent: number | null; trafficPercent: number | null } = { percent: null, trafficPercent: null };
      plan.steps.forEach((step, i) => {
        for (const key of ['percent', 'trafficPercent'] as const) {
          const value = step[key];
          if (value === undefined) continue;
          const before = last[key];
          if (before !== null && value < before) ctx.addIssue({ code: 'custom', path: ['steps', i, key], message: `must not be lower than the step before (${before})` });
          last[key] = value;
        }
        if (plan.maxBakeSeconds !== undefined && step.bakeSeconds !== undefined && step.bakeSeconds > plan.maxBakeSeconds) {
          ctx.addIssue({ code: 'custom', path: ['steps', i, 'bakeSeconds'], message: `must not be above maxBakeSeconds (${plan.maxBakeSeconds})` });
        }
      });
      if (plan.steps.every((s) => s.approval !== undefined)) ctx.addIssue({ code: 'custom', path: ['steps'], message: 'must have at least one percent or trafficPercent step' });
    }),
  );

export type PlanInput = z.infer<typeof PLAN_INPUT>;
export type PlanStepInput = z.infer<typeof PLAN_STEP_INPUT>;

/** The default of `maxBakeSeconds`: four times the longest bake, at least 10 minutes, at most 7 days. */
export function defaultMaxBakeSeconds(steps: readonly PlanStepInput[]): number {
  const longest = Math.max(0, ...steps.map((s) => s.bakeSeconds ?? 0));
  return Math.min(MAX_BAKE_SECONDS, Math.max(600, longest * 4));
}
