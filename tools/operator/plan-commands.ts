import { z } from 'zod';
import { percentFromText, reasonInput, validateInput } from '../../core/operator/inputs.js';
import { PLAN_INPUT } from '../../core/plans/plan-input.js';
import type { PlanStepInput } from '../../core/plans/plan-input.js';
import { PLAN_VERBS } from '../../core/plans/plan-change.js';
import type { PlanView } from '../../core/plans/plan.js';
import { UsageError, durationSchema, validateOptions } from '../cli/index.js';
import type { CliCommand } from '../cli/index.js';
import { printable } from './render.js';
import type { Output } from './render.js';

const START_USAGE = 'canary-edge plan start --steps 1,5,25,50,100 --bake 10m [--traffic] [--approval-before 50] [--max-bake 1h] [--reason <text>]';

const VERB_HELP = {
  approve: 'let a plan waiting at an approval step go on',
  promote: 'end the current step\'s bake now (the judge must still pass it)',
  hold: 'stop the plan where it is (the rollout stays)',
  resume: 'go on with a held plan: the current step is entered again (its rollout set again, its bake restarted)',
  abort: 'end the plan and put the rollout back to where the plan found it',
} as const;

/** A plan's steps from the CLI's shorthand: the percentages, one bake for all, an approval before one of them. */
export function stepsOf(values: readonly number[], bakeSeconds: number, traffic: boolean, approvalBefore: number | undefined): PlanStepInput[] {
  const steps: PlanStepInput[] = [];
  for (const value of values) {
    if (approvalBefore === value) steps.push({ approval: true });
    steps.push(traffic ? { trafficPercent: value, bakeSeconds } : { percent: value, bakeSeconds });
  }
  return steps;
}

function stepText(step: PlanStepInput): string {
  if (step.approval === true) return 'approval';
  return step.percent !== undefined ? `${step.percent}%` : `${step.trafficPercent ?? 0}% of traffic`;
}

/** The plan as people read it: a timeline of its steps (done, current, next) and its last verdicts. */
export function printPlan(out: Output, plan: PlanView): void {
  const state = plan.state === 'aborted' ? out.red(plan.state) : plan.state === 'held' ? out.yellow(plan.state) : out.green(plan.state);
  out.line(`plan ${plan.id}: ${state}${plan.holdReason === null ? '' : ` — ${printable(plan.holdReason)}`}`);
  out.line(`started ${printable(plan.startedAt)} by ${printable(plan.startedBy)}; rollout before it ${plan.rolloutBeforePercent}%, now set by it ${plan.appliedPercent ?? '-'}%`);
  const over = plan.state === 'completed' || plan.state === 'aborted';
  out.table(
    ['STEP', 'WHAT', 'BAKE', 'STATUS'],
    plan.steps.map((step, i) => {
      const status =
        i < plan.currentStep || (plan.state === 'completed' && i <= plan.currentStep)
          ? 'done'
          : i === plan.currentStep && !over
            ? plan.bakeEndsAt === null
              ? out.yellow(plan.state === 'held' ? 'held here' : 'starting')
              : out.yellow(`baking until ${plan.bakeEndsAt}`)
            : i === plan.currentStep && plan.state === 'aborted'
              ? out.red('aborted here')
              : 'next';
      return [String(i + 1), stepText(step), step.bakeSeconds === undefined ? '-' : `${step.bakeSeconds}s`, status];
    }),
  );
  if (plan.verdicts.length > 0) {
    out.line('last verdicts:');
    out.table(
      ['AT', 'STEP', 'VERDICT', 'ACTION'],
      plan.verdicts.slice(-5).map((v) => [printable(v.at), String(v.step + 1), printable(v.verdict), printable(v.action)]),
    );
  }
}

/** `plan start|status|approve|promote|hold|resume|abort` (DESIGN §8). */
export function addPlanCommands(
  cli: CliCommand,
  call: <T>(method: string, path: string, body?: unknown) => Promise<T>,
  print: (value: unknown, human: () => void) => void,
  out: Output,
): void {
  const plan = cli.command('plan').description('release plans: a rollout that advances itself on the judge\'s evidence');
  plan
    .command('start')
    .description('start a plan (one active at a time); its steps advance on the judge\'s tick')
    .requiredOption('--steps <list>', 'percentages, comma-separated, e.g. 1,5,25,50,100')
    .requiredOption('--bake <duration>', 'how long each step bakes before the judge must pass it, e.g. 10m')
    .option('--traffic', 'the steps are shares of the last 24 hours\' requests, not of the platforms')
    .option('--approval-before <percent>', 'wait for `plan approve` before the step of this percentage')
    .option('--max-bake <duration>', 'how long a step may wait for a pass before the plan holds (default 4 x bake, at least 10m)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .action(async (_options: unknown, command: CliCommand) => {
      const o = validateOptions(
        command,
        z.object({
          steps: z.string(),
          bake: durationSchema,
          traffic: z.boolean().optional(),
          approvalBefore: z.string().optional(),
          maxBake: durationSchema.optional(),
          reason: reasonInput(),
        }),
      );
      const values = o.steps.split(',').map(percentFromText);
      if (values.some((v) => Number.isNaN(v))) throw new UsageError(`--steps: must be percentages separated by commas\nusage: ${START_USAGE}`);
      const approvalBefore = o.approvalBefore === undefined ? undefined : percentFromText(o.approvalBefore);
      if (approvalBefore !== undefined && !values.includes(approvalBefore)) throw new UsageError(`--approval-before: must be one of the --steps (${o.steps})\nusage: ${START_USAGE}`);
      const body = {
        steps: stepsOf(values, Math.round(o.bake / 1000), o.traffic === true, approvalBefore),
        ...(o.maxBake === undefined ? {} : { maxBakeSeconds: Math.round(o.maxBake / 1000) }),
        ...(o.reason === undefined || o.reason === null ? {} : { reason: o.reason }),
      };
      // The API's own rule, before asking: what it would refuse, refused here with the same words.
      const valid = validateInput(PLAN_INPUT, body);
      if (!valid.ok) throw new UsageError(`${valid.message}\nusage: ${START_USAGE}`);
      const answer = await call<PlanView>('POST', '/v1/admin/canary/plans', body);
      print(answer, () => {
        out.line(`plan ${answer.id} started: its first step is applied on the judge's next tick`);
        printPlan(out, answer);
      });
    });
  plan
    .command('status')
    .description('the current plan: its steps, the time left in the bake, the last verdicts')
    .action(async () => {
      const answer = await call<PlanView>('GET', '/v1/admin/canary/plans/current');
      print(answer, () => printPlan(out, answer));
    });
  for (const verb of PLAN_VERBS) {
    plan
      .command(verb)
      .description(VERB_HELP[verb])
      .option('--reason <text>', 'why (recorded in the audit log)')
      .action(async (_options: unknown, command: CliCommand) => {
        const { reason } = validateOptions(command, z.object({ reason: reasonInput() }));
        const answer = await call<PlanView>('POST', `/v1/admin/canary/plans/current/${verb}`, { reason });
        print(answer, () => printPlan(out, answer));
      });
  }
}
