import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { toBase64Url } from '../../core/crypto/encoding.js';
import { constantTimeEqual } from '../../core/crypto/web-crypto.js';
import { StoreError } from '../../core/membership/index.js';
import { percentFromText } from '../../core/operator/inputs.js';
import type { Outcome } from '../../core/operator/outcome.js';
import { ADMIN_CSS } from '../admin-page/admin-css.js';
import { dropSessionCookie, pageSession, startPageSession } from '../admin-page/page-session.js';
import { sameOriginPosts, securityHeaders } from '../admin-page/page-security.js';
import { PAGE_PATH, csrfToken, csrfValid } from '../admin-page/session.js';
import { Dashboard, SignIn } from '../admin-page/views.js';
import type { DashboardModel } from '../admin-page/views.js';
import { ADMIN_AUTH_RETRY_AFTER_SECONDS, checkAdminKey } from '../auth/admin-key.js';
import { LOGIN_COOKIE } from '../edge-cookies.js';
import type { AppEnv } from '../types.js';
import { PLAN_VERBS } from '../../core/plans/plan-change.js';
import type { PlanVerb } from '../../core/plans/plan-change.js';
import { overridePageRoutes } from './override-page-routes.js';

/** The page's actor in the audit log (reserved: no API caller can record under it). */
export const PAGE_ACTOR = 'admin page';

// A Map, not an object: the key comes from the query string, and `?done=constructor` must not find a member.
const DONE = new Map<string, string>([
  ['paused', 'Canary routing paused: every request and new job now goes to the primary.'],
  ['resumed', 'Canary routing resumed.'],
  ['in', 'Pinned into the canary.'],
  ['out', 'Kept on the primary.'],
  ['follow', 'Now follows the rollout.'],
  ['rollout', 'Rollout updated.'],
  ['revoked', 'Every override token minted until now is revoked: from the next request on, none of them routes anything.'],
  ['released', 'Released from quarantine: it follows the rollout again.'],
  ['plan-start', 'Plan started: its first step is applied on the judge\'s next tick.'],
  ['plan-approve', 'Approved: the plan goes on at the judge\'s next tick.'],
  ['plan-promote', 'The bake ended: the plan advances when the judge passes the step.'],
  ['plan-hold', 'Plan held: the rollout stays where it is.'],
  ['plan-resume', 'Plan resumed: its current step is entered again at the judge\'s next tick.'],
  ['plan-abort', 'Plan aborted: the rollout is back where the plan found it.'],
]);

/** What an action did: done (redirect with a message), or an error shown on the page with its status. */
type ActionOutcome = { done: string; platform?: string } | { error: string; status: 400 | 404 | 409 | 503 };

const PAGE_STATUS = { invalid: 400, not_found: 404, conflict: 409, store_unavailable: 503, cache_not_invalidated: 503 } as const;

/** An operator command's outcome as the page shows it: the same message the API gives, on the page, with its status. */
function pageOutcome<T>(outcome: Outcome<T>, done: (value: T) => { done: string; platform?: string }): ActionOutcome {
  return outcome.kind === 'ok' ? done(outcome.value) : { error: outcome.message, status: PAGE_STATUS[outcome.kind] };
}

const DATABASE_DOWN = 'The database is unavailable; the page cannot show the state or check your session. Reload in a moment.';

async function signInPage(c: Context<AppEnv>, error: string | null, status: 200 | 401 | 403 | 429 = 200): Promise<Response> {
  const loginToken = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  setCookie(c, LOGIN_COOKIE, loginToken, { path: PAGE_PATH, httpOnly: true, secure: true, sameSite: 'Strict', maxAge: 600 });
  return c.html(<SignIn loginToken={loginToken} error={error} />, status);
}

/** The health window for the page; a Redis fault costs the page its chart, never the page itself. */
async function healthOf(c: Context<AppEnv>): Promise<DashboardModel['health']> {
  const { health, reportStoreError } = c.get('services');
  if (health === null) return { unavailable: 'No Redis is configured (UPSTASH_REDIS_REST_URL), so the edge keeps no health counts.' };
  try {
    return { window: await health.readWindow(Date.now()) };
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    reportStoreError('admin-page-health', error);
    return { unavailable: 'Redis (Upstash) is unavailable, so the health counts cannot be shown. Reload in a moment.' };
  }
}

async function dashboard(c: Context<AppEnv>, nonce: string, flash: DashboardModel['flash'], status: 200 | 400 | 404 | 409 | 503 = 200): Promise<Response> {
  const { operator, config } = c.get('services');
  const platform = c.req.query('platform')?.trim() || null;
  const [overview, audit, lookup, health, quarantined, plan] = await Promise.all([
    operator.overview(),
    operator.audit({ limit: 30 }),
    platform === null ? Promise.resolve(null) : operator.status(platform),
    healthOf(c),
    operator.quarantined(),
    operator.currentPlan(),
  ]);
  if (overview.kind !== 'ok' || audit.kind !== 'ok') return c.html(<p>{DATABASE_DOWN}</p>, 503);
  const { pinned, excluded, rollout } = overview.value;
  const model: DashboardModel = {
    csrf: await csrfToken(config.apiKey, nonce),
    rollout,
    pinned,
    excluded,
    audit: audit.value.entries,
    lookup:
      platform === null || lookup === null
        ? null
        : lookup.kind === 'ok'
          ? { platformId: platform, result: lookup.value }
          : { platformId: platform, result: null, problem: lookup.kind === 'not_found' ? null : lookup.message },
    flash,
    health,
    quarantined: quarantined.kind === 'ok' ? quarantined.value : null,
    plan: plan.kind === 'ok' ? { plan: plan.value } : plan.kind === 'not_found' ? { none: true } : { unavailable: plan.message },
  };
  return c.html(<Dashboard {...model} />, status);
}

type Form = Record<string, string | File | (string | File)[]>;

function field(form: Form, name: string): string {
  const value = form[name];
  return typeof value === 'string' ? value.trim() : '';
}

/** The session of a state-changing form, with its CSRF token checked; or the response that refuses it. */
async function formSession(c: Context<AppEnv>): Promise<{ nonce: string; form: Form } | Response> {
  const session = await pageSession(c);
  if (session.kind === 'unavailable') return c.html(<p>{DATABASE_DOWN}</p>, 503);
  if (session.kind === 'none') return signInPage(c, 'Your session has ended. Sign in again.', 401);
  const form = await c.req.parseBody();
  if (!(await csrfValid(c.get('services').config.apiKey, session.nonce, form.csrf))) {
    return c.text('This form is stale or was not sent by this page (CSRF check failed). Reload the page and try again.', 403);
  }
  return { nonce: session.nonce, form };
}

/** Runs an action after checking the session and its CSRF token; redirects to the page with the outcome. */
async function action(c: Context<AppEnv>, run: (form: Form) => Promise<ActionOutcome>): Promise<Response> {
  const checked = await formSession(c);
  if (checked instanceof Response) return checked;
  const outcome = await run(checked.form);
  if ('error' in outcome) return dashboard(c, checked.nonce, { kind: 'error', text: outcome.error }, outcome.status);
  const query = new URLSearchParams({ done: outcome.done, ...(outcome.platform === undefined ? {} : { platform: outcome.platform }) });
  return c.redirect(`${PAGE_PATH}/?${query}`, 303);
}

/** The form's reason as the command takes it: empty means none (the command's schema checks the rest). */
function reasonOf(form: Form): string | null {
  const reason = field(form, 'reason');
  return reason === '' ? null : reason;
}

/**
 * `/__canary/`: the operator page, server-rendered with hono/jsx and served by the edge itself (never proxied). Signed
 * in with the admin key (failures budgeted per client) into an 8-hour HttpOnly, Secure, SameSite=Strict session kept
 * server-side; every state-changing form, sign-out included, carries a CSRF token.
 */
export function adminPageRoutes(): Hono<AppEnv> {
  // Mounted at the root with full paths: a sub-app's '/' would match `/__canary` but never `/__canary/`.
  const app = new Hono<AppEnv>();
  const P = PAGE_PATH;
  app.use(`${P}/*`, securityHeaders());
  app.use(`${P}/*`, sameOriginPosts());
  app.use(`${P}/*`, bodyLimit({ maxSize: 4 * 1024, onError: (c) => c.text('Form too large.', 413) }));

  app.get(`${P}/assets/admin.css`, (c) => c.body(ADMIN_CSS, 200, { 'content-type': 'text/css; charset=utf-8' }));
  app.route('/', overridePageRoutes());

  app.get(`${P}/`, async (c) => {
    const session = await pageSession(c);
    if (session.kind === 'unavailable') return c.html(<p>{DATABASE_DOWN}</p>, 503);
    if (session.kind === 'none') return signInPage(c, null);
    const done = DONE.get(c.req.query('done') ?? '');
    return dashboard(c, session.nonce, done === undefined ? null : { kind: 'ok', text: done });
  });
  app.get(P, (c) => c.redirect(`${P}/`, 301));

  app.post(`${P}/session`, async (c) => {
    const form = await c.req.parseBody();
    const expected = getCookie(c, LOGIN_COOKIE);
    // The login form's token must come back with the cookie it was issued with (a cross-site form has neither).
    if (expected === undefined || field(form, 'login') === '' || !(await constantTimeEqual(field(form, 'login'), expected))) {
      return signInPage(c, 'The sign-in form expired. Try again.', 403);
    }
    const check = await checkAdminKey(c, field(form, 'key'));
    if (check === 'missing') return signInPage(c, 'Give the admin key (AP_API_KEY). Nothing was signed in.', 401);
    if (check === 'blocked') {
      c.header('retry-after', String(ADMIN_AUTH_RETRY_AFTER_SECONDS));
      return signInPage(c, `Too many failed sign-ins from this address. Wait ${ADMIN_AUTH_RETRY_AFTER_SECONDS} s, then try again.`, 429);
    }
    if (check !== 'ok') return signInPage(c, 'Wrong admin key. Nothing was signed in.', 401);
    try {
      await startPageSession(c);
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      c.get('services').reportStoreError('admin-page-sign-in', error);
      return c.html(<p>{DATABASE_DOWN}</p>, 503);
    }
    deleteCookie(c, LOGIN_COOKIE, { path: PAGE_PATH, secure: true });
    return c.redirect(`${PAGE_PATH}/`, 303);
  });

  // Signing out ends the session server-side (its cookie no longer opens anything, wherever it was copied to).
  for (const [path, everywhere] of [['/session/end', false], ['/session/end-all', true]] as const) {
    app.post(`${P}${path}`, async (c) => {
      const checked = await formSession(c);
      if (checked instanceof Response) return checked;
      const { sessions, reportStoreError } = c.get('services');
      try {
        if (everywhere) await sessions.endAll(PAGE_ACTOR);
        else await sessions.end(checked.nonce);
      } catch (error) {
        if (!(error instanceof StoreError)) throw error;
        reportStoreError('admin-page-sign-out', error);
        return c.html(<p>The database is unavailable, so the session could not be ended. Try again in a moment.</p>, 503);
      }
      dropSessionCookie(c);
      return c.redirect(`${PAGE_PATH}/`, 303);
    });
  }

  for (const [name, paused] of [['pause', true], ['resume', false]] as const) {
    app.post(`${P}/actions/${name}`, (c) =>
      action(c, async (form) =>
        pageOutcome(await c.get('services').operator.setPaused(paused, { reason: reasonOf(form) }, PAGE_ACTOR), () => ({ done: paused ? 'paused' : 'resumed' })),
      ),
    );
  }

  app.post(`${P}/actions/choice`, (c) =>
    action(c, async (form) => {
      const platformId = field(form, 'platformId');
      const choice = field(form, 'choice');
      const input = { platformId, reason: reasonOf(form) };
      const { operator } = c.get('services');
      if (choice === 'follow') return pageOutcome(await operator.follow(input, PAGE_ACTOR), () => ({ done: choice, platform: platformId }));
      if (choice !== 'in' && choice !== 'out') return { error: 'Choose pin, exclude or follow.', status: 400 };
      return pageOutcome(await operator.setChoice({ ...input, canary: choice === 'in' }, PAGE_ACTOR), () => ({ done: choice, platform: platformId }));
    }),
  );

  app.post(`${P}/actions/rollout`, (c) =>
    action(c, async (form) =>
      pageOutcome(await c.get('services').operator.setRollout({ percent: percentFromText(field(form, 'percent')), reason: reasonOf(form) }, PAGE_ACTOR), () => ({
        done: 'rollout',
      })),
    ),
  );

  app.post(`${P}/actions/release`, (c) =>
    action(c, async (form) => {
      const platformId = field(form, 'platformId');
      return pageOutcome(await c.get('services').operator.follow({ platformId, reason: reasonOf(form) }, PAGE_ACTOR, 'release'), () => ({ done: 'released', platform: platformId }));
    }),
  );

  app.post(`${P}/actions/revoke-overrides`, (c) =>
    action(c, async (form) => pageOutcome(await c.get('services').operator.revokeOverrides({ reason: reasonOf(form) }, PAGE_ACTOR), () => ({ done: 'revoked' }))),
  );

  app.post(`${P}/actions/plan`, (c) =>
    action(c, async (form) => {
      const verb = field(form, 'verb');
      if (!PLAN_VERBS.includes(verb as PlanVerb)) return { error: `Choose one of ${PLAN_VERBS.join(', ')}.`, status: 400 };
      return pageOutcome(await c.get('services').operator.planVerb(verb as PlanVerb, { reason: reasonOf(form) }, PAGE_ACTOR), () => ({ done: `plan-${verb}` }));
    }),
  );

  app.post(`${P}/actions/plan-start`, (c) =>
    action(c, async (form) => {
      const bakeSeconds = Number(field(form, 'bakeSeconds'));
      const traffic = field(form, 'traffic') === '1';
      const steps = field(form, 'steps')
        .split(',')
        .map((text) => percentFromText(text))
        .map((value) => (traffic ? { trafficPercent: value, bakeSeconds } : { percent: value, bakeSeconds }));
      return pageOutcome(await c.get('services').operator.startPlan({ steps, reason: reasonOf(form) }, PAGE_ACTOR), () => ({ done: 'plan-start' }));
    }),
  );

  app.all(`${P}/*`, (c) => c.text('Not found.', 404));
  return app;
}
