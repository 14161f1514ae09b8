import type { PlanView } from '../../core/plans/plan.js';
import type { PlanStepInput } from '../../core/plans/plan-input.js';
import { PAGE_PATH } from './session.js';

/** The plan card's model: the current plan, none ever started, or why it cannot be shown. */
export type PlanModel = { plan: PlanView } | { none: true } | { unavailable: string };

function stepText(step: PlanStepInput): string {
  if (step.approval === true) return 'approval';
  return step.percent !== undefined ? `${step.percent}%` : `${step.trafficPercent ?? 0}% of traffic`;
}

function statusOf(plan: PlanView, i: number): { label: string; cls: string } {
  if (i < plan.currentStep || (plan.state === 'completed' && i <= plan.currentStep)) return { label: 'done', cls: 'done' };
  if (i !== plan.currentStep) return { label: 'next', cls: 'next' };
  if (plan.state === 'aborted') return { label: 'aborted here', cls: 'failed' };
  if (plan.state === 'held') return { label: 'held here', cls: 'held' };
  return { label: plan.bakeEndsAt === null ? 'starting' : `baking until ${plan.bakeEndsAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}`, cls: 'current' };
}

/** The verbs a plan in this state takes (each a form behind the session and its CSRF token). */
function verbsOf(plan: PlanView): string[] {
  if (plan.state === 'running') return plan.bakeEndsAt === null ? ['hold', 'abort'] : ['promote', 'hold', 'abort'];
  if (plan.state === 'held') return plan.steps[plan.currentStep]?.approval === true ? ['approve', 'abort'] : ['resume', 'abort'];
  return [];
}

/** The release plan as a timeline (done, current with its bake, next), its last verdicts and its actions. */
export function PlanCard(props: { model: PlanModel; csrf: string }) {
  const { model } = props;
  const hidden = <input type="hidden" name="csrf" value={props.csrf} />;
  const start = (
    <details class="plan-start">
      <summary>Start a plan</summary>
      <form method="post" action={`${PAGE_PATH}/actions/plan-start`} class="stack">
        {hidden}
        <input name="steps" placeholder="steps, e.g. 1,5,25,50,100" aria-label="steps (percentages)" required />
        <input name="bakeSeconds" type="number" min={0} max={604800} placeholder="bake seconds per step" aria-label="bake seconds per step" required />
        <label>
          <input type="checkbox" name="traffic" value="1" /> steps are shares of the last 24 hours' requests
        </label>
        <input name="reason" placeholder="reason (optional)" aria-label="reason" maxlength={500} />
        <button type="submit">Start</button>
      </form>
    </details>
  );
  if ('unavailable' in model) {
    return (
      <section class="card" id="plan">
        <h2>Release plan</h2>
        <p class="muted">{model.unavailable}</p>
      </section>
    );
  }
  if ('none' in model) {
    return (
      <section class="card" id="plan">
        <h2>Release plan</h2>
        <p class="muted">No plan was ever started: the rollout moves only when an operator moves it.</p>
        {start}
      </section>
    );
  }
  const { plan } = model;
  const over = plan.state === 'completed' || plan.state === 'aborted';
  return (
    <section class="card" id="plan">
      <h2>
        Release plan {plan.id}: <span class={`plan-state ${plan.state}`} id="plan-state">{plan.state}</span>
      </h2>
      {plan.holdReason !== null && <p class="answer" id="plan-hold-reason">{plan.holdReason}</p>}
      <ol class="timeline" id="plan-timeline">
        {plan.steps.map((step, i) => {
          const status = statusOf(plan, i);
          return (
            <li class={status.cls}>
              <strong>{stepText(step)}</strong>
              {step.bakeSeconds !== undefined && <span class="muted"> · bake {step.bakeSeconds} s</span>} <span class="step-status">{status.label}</span>
            </li>
          );
        })}
      </ol>
      <p class="muted">
        Started by {plan.startedBy} at {plan.startedAt}; the rollout was {plan.rolloutBeforePercent}% before it
        {plan.appliedPercent === null ? '' : `, the plan set it to ${plan.appliedPercent}%`}.
      </p>
      {plan.verdicts.length > 0 && (
        <table id="plan-verdicts">
          <thead>
            <tr>
              <th>at</th>
              <th>step</th>
              <th>verdict</th>
              <th>action</th>
            </tr>
          </thead>
          <tbody>
            {plan.verdicts.slice(-5).reverse().map((v) => (
              <tr>
                <td>{v.at}</td>
                <td>{v.step + 1}</td>
                <td class={`verdict ${v.verdict}`}>{v.verdict}</td>
                <td>{v.action}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <div class="row plan-actions">
        {verbsOf(plan).map((verb) => (
          <form method="post" action={`${PAGE_PATH}/actions/plan`} class="inline">
            {hidden}
            <input type="hidden" name="verb" value={verb} />
            <button type="submit" class={verb === 'abort' ? 'danger' : ''}>
              {verb}
            </button>
          </form>
        ))}
      </div>
      {over && start}
    </section>
  );
}
