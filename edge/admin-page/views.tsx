import type { Child } from 'hono/jsx';
import type { JudgeWindow } from '../../core/health/judge-window.js';
import type { MetricVerdict } from '../../core/judge/judge.js';
import { errorRate } from '../../core/health/health-window.js';
import type { AuditEntry, MembershipSource, RolloutRecord } from '../../core/membership/index.js';
import { basisPointsToPercent } from '../../core/rollout/bucket.js';
import { HealthChart } from './health-chart.js';
import { PlanCard } from './plan-views.js';
import type { PlanModel } from './plan-views.js';
import { PAGE_PATH } from './session.js';

/** The page skeleton: no script at all, one stylesheet served by the edge itself (works offline). */
export function Layout(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        <link rel="stylesheet" href={`${PAGE_PATH}/assets/admin.css`} />
      </head>
      <body>{props.children}</body>
    </html>
  );
}

/** The sign-in form. */
export function SignIn(props: { loginToken: string; error: string | null }) {
  return (
    <Layout title="canary-edge · sign in">
      <main class="narrow">
        <h1>canary-edge</h1>
        <p class="muted">Operator page of the canary router. Sign in with the admin key (AP_API_KEY).</p>
        {props.error !== null && <p class="flash error" role="alert">{props.error}</p>}
        <form method="post" action={`${PAGE_PATH}/session`} class="card">
          <input type="hidden" name="login" value={props.loginToken} />
          <label for="key">Admin key</label>
          <input id="key" name="key" type="password" autocomplete="current-password" required />
          <button type="submit">Sign in</button>
        </form>
      </main>
    </Layout>
  );
}

/** What the dashboard shows. */
export interface DashboardModel {
  csrf: string;
  rollout: RolloutRecord;
  pinned: string[];
  excluded: string[];
  audit: AuditEntry[];
  /** The answer to "where does platform X go, and why". */
  /** `problem`: why there is no answer other than "no such platform" (an invalid id, the database down). */
  lookup: { platformId: string; result: { canary: boolean; source: MembershipSource } | null; problem?: string | null } | null;
  flash: { kind: 'ok' | 'error'; text: string } | null;
  /** The edge's counts over the judge's window and the judge's last record, or why they cannot be shown. */
  health: { window: JudgeWindow } | { unavailable: string };
  /** Platforms the judge quarantined that are still excluded (null: the database could not say). */
  quarantined: { platformId: string; at: string; reason: string | null }[] | null;
  /** The release plan (the latest, finished ones included). */
  plan: PlanModel;
}

const SOURCE_TEXT: Record<MembershipSource, string> = {
  paused: 'canary routing is paused: everyone goes to the primary',
  explicit: 'an operator chose this explicitly',
  rollout: 'it falls inside the percentage rollout',
  default: 'no explicit choice, and outside the rollout',
};

function Hidden(props: { csrf: string }) {
  return <input type="hidden" name="csrf" value={props.csrf} />;
}

function Reason() {
  return <input name="reason" maxlength={500} placeholder="reason (kept in the audit log)" aria-label="reason" />;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What an entry changed, field by field (`paused false → true`), so a row reads at a glance. */
function change(entry: AuditEntry): string {
  const before = isRecord(entry.before) ? entry.before : {};
  const after = isRecord(entry.after) ? entry.after : {};
  const show = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));
  const parts = Object.keys(after)
    .filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
    .map((key) => (key in before ? `${key} ${show(before[key])} → ${show(after[key])}` : `${key} ${show(after[key])}`));
  return parts.length === 0 ? 'no change' : parts.join(', ');
}

function rateText(rate: number | null): string {
  return rate === null ? 'no requests' : `${(rate * 100).toFixed(2)}%`;
}

const METRIC_TEXT: Record<MetricVerdict['metric'], string> = {
  requestErrors: 'request errors',
  jobFailures: 'job failures',
  requestLatency: 'request p95 latency',
  jobLatency: 'job p95 duration',
};

function when(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** The judge's last verdict, per metric, with its reason and the platforms that drove it. */
function JudgeState(props: { window: JudgeWindow }) {
  const { record } = props.window;
  if (record === null) {
    return <p class="muted">No judge has reported yet: it runs in the primary origin apps (CANARY_GUARD_ENABLED, default on).</p>;
  }
  if (record.verdict === 'disabled') return <p class="guard off">The judge is off (CANARY_GUARD_ENABLED=false).</p>;
  const { settings } = record;
  return (
    <>
      <p class="muted">
        Every {settings.intervalSeconds} s the judge compares the canary with the primary over the last {settings.windowSeconds} s: request errors,
        job failures, and p95 latency of requests and jobs, no platform weighing more than {Math.round(settings.maxPlatformShare * 100)}% of either
        side. A failure driven by fewer than {settings.minPlatforms} platforms quarantines them; a broader one pauses canary routing. It never resumes
        by itself.
      </p>
      <p class={`guard verdict-${record.verdict}`} id="judge-verdict">
        Last verdict: <strong>{record.verdict}</strong> at {when(record.at)}
        {record.action === 'paused' ? ' — it paused canary routing' : ''}
        {record.action === 'quarantined' ? ` — it quarantined ${record.quarantined.join(', ')}` : ''}
        {record.problem !== null ? ` — ${record.problem}` : ''}
      </p>
      {record.metrics !== null && (
        <table id="judge-metrics">
          <thead>
            <tr>
              <th>Metric</th>
              <th>Verdict</th>
              <th>Why</th>
              <th>Platforms that drove it</th>
            </tr>
          </thead>
          <tbody>
            {Object.values(record.metrics).map((m) => (
              <tr>
                <td class="nowrap">{METRIC_TEXT[m.metric]}</td>
                <td class={`verdict-${m.verdict}`}>{m.verdict}</td>
                <td>{m.reason}</td>
                <td class="mono">{m.drivers.length === 0 ? '–' : m.drivers.slice(0, 3).map((d) => `${d.platformId} (${d.bad}/${d.n})`).join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </>
  );
}

/** Platforms the judge took off the canary, each with a one-click release (back to following the rollout, audited). */
function Quarantined(props: { quarantined: DashboardModel['quarantined']; csrf: string }) {
  if (props.quarantined === null) return <p class="muted">The database could not say which platforms are quarantined.</p>;
  if (props.quarantined.length === 0) return <p class="muted">No platform is quarantined.</p>;
  return (
    <ul class="platforms" id="quarantined">
      {props.quarantined.map((q) => (
        <li>
          <span>
            <a href={`${PAGE_PATH}/?platform=${encodeURIComponent(q.platformId)}`}>{q.platformId}</a>{' '}
            <span class="muted">since {when(q.at)}</span>
          </span>
          <form method="post" action={`${PAGE_PATH}/actions/release`} class="inline">
            <Hidden csrf={props.csrf} />
            <input type="hidden" name="platformId" value={q.platformId} />
            <button type="submit" class="link">release</button>
          </form>
        </li>
      ))}
    </ul>
  );
}

/** Requests and errors per origin over the judge's window, with a chart per origin, the verdicts and the quarantine. */
function Health(props: { health: DashboardModel['health']; quarantined: DashboardModel['quarantined']; csrf: string }) {
  if ('unavailable' in props.health) {
    return (
      <section class="card" id="health">
        <h2>Health</h2>
        <p class="muted">{props.health.unavailable}</p>
      </section>
    );
  }
  const { window } = props.health;
  return (
    <section class="card" id="health">
      <h2>
        Health at the edge, last {window.windowSeconds >= 120 ? `${Math.round(window.windowSeconds / 60)} minutes` : `${window.windowSeconds} s`}
      </h2>
      <p>
        Canary error rate <strong id="canary-rate">{rateText(errorRate(window.total.canary))}</strong> · primary{' '}
        <strong id="primary-rate">{rateText(errorRate(window.total.primary))}</strong>
      </p>
      <JudgeState window={window} />
      <div class="charts">
        <HealthChart origin="primary" minutes={window.minutes} />
        <HealthChart origin="canary" minutes={window.minutes} />
      </div>
      <p class="legend muted">
        <span class="swatch requests" /> requests per minute <span class="swatch errors" /> errors (5xx, or the origin never answered)
      </p>
      <h3>Quarantined by the judge</h3>
      <Quarantined quarantined={props.quarantined} csrf={props.csrf} />
    </section>
  );
}

/** Lists are shown up to this many entries; the rest is counted (a cohort of 100,000 must not make a 100,000-row page). */
const LIST_LIMIT = 200;

/** The operator's page: state first (pause button right there), then questions, then changes, then history. */
export function Dashboard(props: DashboardModel) {
  const { rollout } = props;
  const percent = basisPointsToPercent(rollout.basisPoints);
  return (
    <Layout title={rollout.paused ? 'PAUSED · canary-edge' : 'canary-edge'}>
      <header class={rollout.paused ? 'state paused' : 'state live'}>
        <div>
          <p class="state-label">{rollout.paused ? 'CANARY ROUTING PAUSED' : 'CANARY ROUTING ON'}</p>
          <p class="state-detail">
            {rollout.paused
              ? 'Every request and every new job goes to the primary. Resume restores the cohort below exactly.'
              : `${props.pinned.length} pinned in · ${props.excluded.length} excluded · rollout ${percent}% of the rest`}
          </p>
        </div>
        <form method="post" action={`${PAGE_PATH}/actions/${rollout.paused ? 'resume' : 'pause'}`} class="state-action">
          <Hidden csrf={props.csrf} />
          <Reason />
          <button type="submit" class={rollout.paused ? 'resume' : 'danger'}>
            {rollout.paused ? 'Resume canary routing' : 'Pause canary routing'}
          </button>
        </form>
      </header>

      <main>
        {props.flash !== null && (
          <p class={`flash ${props.flash.kind}`} role={props.flash.kind === 'error' ? 'alert' : 'status'}>
            {props.flash.text}
          </p>
        )}

        <Health health={props.health} quarantined={props.quarantined} csrf={props.csrf} />

        <PlanCard model={props.plan} csrf={props.csrf} />

        <section class="card">
          <h2>Where does a platform go, and why?</h2>
          <form method="get" action={`${PAGE_PATH}/`} class="row">
            <input name="platform" placeholder="platform id" aria-label="platform id" value={props.lookup?.platformId ?? ''} required />
            <button type="submit">Look up</button>
          </form>
          {props.lookup !== null &&
            (props.lookup.result === null ? (
              <p class="answer" id="lookup-answer">
                {props.lookup.problem ?? (<>No platform <code>{props.lookup.platformId}</code>.</>)}
              </p>
            ) : (
              <p class="answer" id="lookup-answer">
                <code>{props.lookup.platformId}</code> goes to{' '}
                <strong class={props.lookup.result.canary ? 'to-canary' : 'to-primary'}>{props.lookup.result.canary ? 'the canary' : 'the primary'}</strong>{' '}
                because {SOURCE_TEXT[props.lookup.result.source]}.
              </p>
            ))}
        </section>

        <div class="columns">
          <section class="card">
            <h2>Pin, exclude, or let a platform follow the rollout</h2>
            <form method="post" action={`${PAGE_PATH}/actions/choice`} class="stack">
              <Hidden csrf={props.csrf} />
              <input name="platformId" placeholder="platform id" aria-label="platform id to change" required maxlength={128} />
              <fieldset class="choices">
                <legend>Choice</legend>
                <label>
                  <input type="radio" name="choice" value="in" checked /> pin into the canary
                </label>
                <label>
                  <input type="radio" name="choice" value="out" /> keep on the primary
                </label>
                <label>
                  <input type="radio" name="choice" value="follow" /> follow the rollout
                </label>
              </fieldset>
              <Reason />
              <button type="submit">Apply</button>
            </form>
          </section>

          <section class="card">
            <h2>Percentage rollout</h2>
            <p>
              <span class="big" id="rollout-percent">{percent}%</span> of the platforms without an explicit choice go to the canary.
            </p>
            <p class="muted">
              Last changed by {rollout.updatedBy} at {rollout.updatedAt}. Raising it only adds platforms; lowering it only removes them.
            </p>
            <form method="post" action={`${PAGE_PATH}/actions/rollout`} class="row">
              <Hidden csrf={props.csrf} />
              <input name="percent" type="number" min={0} max={100} step="0.01" value={String(percent)} aria-label="rollout percent" required />
              <Reason />
              <button type="submit">Set rollout</button>
            </form>
          </section>
        </div>

        <div class="columns">
          <section class="card">
            <h2>Pinned into the canary ({props.pinned.length})</h2>
            <PlatformList ids={props.pinned} empty="Nobody is pinned in." csrf={props.csrf} />
          </section>
          <section class="card">
            <h2>Kept on the primary ({props.excluded.length})</h2>
            <PlatformList ids={props.excluded} empty="Nobody is excluded." csrf={props.csrf} />
          </section>
        </div>

        <section class="card">
          <h2>Audit log (newest first)</h2>
          <table id="audit">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>What</th>
                <th>Platform</th>
                <th>Change</th>
                <th>Why</th>
              </tr>
            </thead>
            <tbody>
              {props.audit.map((e) => (
                <tr>
                  <td class="nowrap">{e.at.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}</td>
                  <td>{e.actor}</td>
                  <td>
                    <span class={`action ${e.action}`}>{e.action}</span>
                  </td>
                  <td>{e.platformId ?? '–'}</td>
                  <td class="mono">{change(e)}</td>
                  <td>{e.reason ?? ''}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <section class="card" id="overrides">
          <h2>Tester overrides</h2>
          <p class="muted">
            Tokens minted with <code>npx canary-edge override</code> route requests whatever the cohort says. If one leaked, revoke them all: from the
            next request on, every token minted until now is ignored (new ones work).
          </p>
          <form method="post" action={`${PAGE_PATH}/actions/revoke-overrides`} class="row">
            <Hidden csrf={props.csrf} />
            <Reason />
            <button type="submit" class="danger">Revoke every override token</button>
          </form>
        </section>

        <div class="sign-out">
          <form method="post" action={`${PAGE_PATH}/session/end`} class="inline">
            <Hidden csrf={props.csrf} />
            <button type="submit" class="link">Sign out</button>
          </form>
          <form method="post" action={`${PAGE_PATH}/session/end-all`} class="inline">
            <Hidden csrf={props.csrf} />
            <button type="submit" class="link">Sign out everywhere</button>
          </form>
        </div>
      </main>
    </Layout>
  );
}

function PlatformList(props: { ids: string[]; empty: string; csrf: string }) {
  if (props.ids.length === 0) return <p class="muted">{props.empty}</p>;
  const more = props.ids.length - LIST_LIMIT;
  return (
    <>
    <ul class="platforms">
      {props.ids.slice(0, LIST_LIMIT).map((id) => (
        <li>
          <a href={`${PAGE_PATH}/?platform=${encodeURIComponent(id)}`}>{id}</a>
          <form method="post" action={`${PAGE_PATH}/actions/choice`} class="inline">
            <Hidden csrf={props.csrf} />
            <input type="hidden" name="platformId" value={id} />
            <input type="hidden" name="choice" value="follow" />
            <button type="submit" class="link">follow rollout</button>
          </form>
        </li>
      ))}
    </ul>
    {more > 0 && <p class="muted">…and {more} more (npx canary-edge list shows them all).</p>}
    </>
  );
}
