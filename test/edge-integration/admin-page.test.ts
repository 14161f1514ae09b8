import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeJudgeRecord } from '../../core/judge/judge-record.js';
import type { JudgeRecord } from '../../core/judge/judge-record.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { SCENARIOS, SIMULATION_SETTINGS, simulate } from '../../testkit/judge-simulation.js';
import { launchChromium } from '../../testkit/browser.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

// The operator page in a real Chromium against the real edge (workerd, Redis, Postgres): sign in, pin with a reason,
// read it back in the lists and the audit table, pause and resume, and check that routing follows each step.

let h: EdgeHarness;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let shots: string;

beforeAll(async () => {
  [h, browser, shots] = await Promise.all([startEdgeHarness(), launchChromium(), mkdtemp(path.join(os.tmpdir(), 'canary-admin-page-'))]);
  context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  page = await context.newPage();
});
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
});

async function routeOf(platformId: string): Promise<string | null> {
  const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` } });
  await res.arrayBuffer();
  return res.headers.get('x-origin');
}

/** Requests for the page that reached an origin (the browser's own /favicon.ico is an ordinary request). */
const pageRequestsAtOrigins = (): number => [...h.primary.requests, ...h.canary.requests].filter((r) => r.url.startsWith('/__canary')).length;

async function signIn(key: string): Promise<void> {
  await page.goto(`${h.url}/__canary/`);
  await page.fill('input[name=key]', key);
  await page.click('button[type=submit]');
}

describe('the admin page /__canary/', () => {
  it('is not reachable without a session, and a wrong key gives a clear message and no cookie', async () => {
    const res = await page.goto(`${h.url}/__canary/`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('body')).toContain('Sign in with the admin key');
    expect(await page.textContent('body')).not.toContain('CANARY ROUTING');
    await signIn('not-the-admin-key');
    expect(await page.textContent('[role=alert]')).toBe('Wrong admin key. Nothing was signed in.');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('ap_canary_admin');
    // Actions without a session are refused too.
    const action = await fetch(`${h.url}/__canary/actions/pause`, { method: 'POST', body: new URLSearchParams({ csrf: 'x' }) });
    expect(action.status).toBe(401);
    expect(pageRequestsAtOrigins()).toBe(0); // never proxied
  });

  it('signs in into an HttpOnly, Secure, SameSite=Strict session and serves no script under a strict CSP', async () => {
    await signIn(h.apiKey);
    await page.waitForSelector('text=CANARY ROUTING ON');
    const session = (await context.cookies()).find((c) => c.name === 'ap_canary_admin');
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/__canary' });
    expect(session?.expires ?? 0).toBeGreaterThan(Date.now() / 1000 + 7.9 * 3600);
    const res = await page.reload();
    const csp = res?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(await page.content()).not.toContain('<script');
    expect(await page.locator('link[rel=stylesheet]').getAttribute('href')).toBe('/__canary/assets/admin.css');
  });

  it('pins a platform with a reason, shows it in the list and the audit table, and routing follows', async () => {
    const platformId = await h.seedPlatform();
    expect(await routeOf(platformId)).toBe('primary');
    await page.fill('input[aria-label="platform id to change"]', platformId);
    await page.check('input[name=choice][value=in]');
    await page.locator('form[action="/__canary/actions/choice"] input[name=reason]').first().fill('beta customer, ticket 7');
    await page.locator('form[action="/__canary/actions/choice"] button[type=submit]').first().click();
    await page.waitForSelector('text=Pinned into the canary.');
    expect(await page.locator('ul.platforms >> text=' + platformId).count()).toBe(1);
    const firstAuditRow = await page.locator('#audit tbody tr').first().textContent();
    expect(firstAuditRow).toContain('admin page');
    expect(firstAuditRow).toContain('pin');
    expect(firstAuditRow).toContain(platformId);
    expect(firstAuditRow).toContain('beta customer, ticket 7');
    expect(await page.textContent('#lookup-answer')).toContain('goes to the canary because an operator chose this explicitly');
    expect(await routeOf(platformId)).toBe('canary');

    // The search box answers "where does X go, and why".
    await page.fill('input[aria-label="platform id"]', platformId);
    await page.click('form[method=get] button');
    expect(await page.textContent('#lookup-answer')).toContain(`${platformId} goes to the canary because an operator chose this explicitly`);
  });

  it('pauses and resumes with one button, and a request through the edge follows each step', async () => {
    const platformId = await h.seedPlatform();
    await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true });
    await page.goto(`${h.url}/__canary/?platform=${platformId}`);
    expect(await routeOf(platformId)).toBe('canary');

    await page.locator('header form input[name=reason]').fill('error spike drill');
    await page.click('text=Pause canary routing');
    await page.waitForSelector('text=CANARY ROUTING PAUSED');
    expect(await routeOf(platformId)).toBe('primary');
    await page.goto(`${h.url}/__canary/?platform=${platformId}`);
    expect(await page.textContent('#lookup-answer')).toContain('goes to the primary because canary routing is paused');
    await page.screenshot({ path: path.join(shots, 'paused.png'), fullPage: true });

    await page.click('text=Resume canary routing');
    await page.waitForSelector('text=CANARY ROUTING ON');
    expect(await routeOf(platformId)).toBe('canary');
    const actions = await page.locator('#audit tbody tr td:nth-child(3)').allTextContents();
    expect(actions.slice(0, 2)).toEqual(['resume', 'pause']);
    await page.screenshot({ path: path.join(shots, 'admin-page.png'), fullPage: true });
    console.log(`admin page screenshots: ${path.join(shots, 'admin-page.png')} and ${path.join(shots, 'paused.png')}`);
  });

  it('sets the rollout percentage from the page', async () => {
    await page.goto(`${h.url}/__canary/`);
    await page.fill('input[name=percent]', '12.5');
    await page.click('text=Set rollout');
    await page.waitForSelector('text=Rollout updated.');
    expect(await page.textContent('#rollout-percent')).toBe('12.5%');
    await page.fill('input[name=percent]', '0');
    await page.click('text=Set rollout');
    await page.waitForSelector('text=Rollout updated.');
  });

  it('says so when a change is saved but the routing cache could not be reset (Redis down), and a retry clears it', async () => {
    await page.goto(`${h.url}/__canary/`);
    await h.stopUpstash();
    try {
      await page.fill('input[name=percent]', '0');
      await page.click('text=Set rollout');
      expect(await page.textContent('[role=alert]')).toContain('The rollout of 0% is saved, but the routing cache could not be reset');
    } finally {
      await h.startUpstash();
    }
    await page.fill('input[name=percent]', '0');
    await page.click('text=Set rollout');
    await page.waitForSelector('text=Rollout updated.');
  });

  it('shows the health window with a chart per origin, the judge\'s verdict per metric, and the quarantined platforms with a release', async () => {
    const platformId = await h.seedPlatform();
    await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true });
    const auth = { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` };
    for (const p of ['/v1/flows', '/v1/flows', '/v1/flows', '/__status/500']) {
      const res = await fetch(`${h.url}${p}`, { headers: auth });
      await res.arrayBuffer();
    }
    // What the judge in a primary origin app writes after a tick (the apps do not run in this harness): the product's
    // own judge over a seeded draw in which one platform fails all its requests.
    const [outcome] = simulate(SCENARIOS.oneTenantBroken, 1, 7);
    const record: JudgeRecord = {
      at: new Date().toISOString(),
      verdict: outcome?.verdict ?? 'inconclusive',
      action: 'quarantined',
      quarantined: ['p0'],
      problem: null,
      windowSeconds: 600,
      settings: { ...SIMULATION_SETTINGS, windowSeconds: 600 },
      metrics: outcome?.metrics ?? null,
    };
    const quarantined = await h.seedPlatform();
    await h.pool.query('UPDATE platform_plan SET canary = false, canary_explicit = true WHERE platform_id = $1', [quarantined]);
    await h.pool.query(`INSERT INTO canary_audit (actor, action, platform_id, reason) VALUES ('judge', 'quarantine', $1, 'judge: requestErrors')`, [quarantined]);
    const redis = new Redis(h.redisDb.url, { maxRetriesPerRequest: 1 });
    try {
      await writeJudgeRecord(createIoredisScriptRunner(redis), record);
    } finally {
      await redis.quit();
    }
    // The edge flushes its counts within about a second of a request.
    for (const deadline = Date.now() + 15_000; ; ) {
      const view = (await (await h.call('GET', '/v1/admin/canary/health')).json()) as { origins: { canary: { errors: number } } };
      if (view.origins.canary.errors >= 1) break;
      if (Date.now() > deadline) throw new Error('the edge never flushed its health counts');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await page.goto(`${h.url}/__canary/`);
    expect(await page.textContent('#health h2')).toBe('Health at the edge, last 10 minutes');
    expect(await page.textContent('#judge-verdict')).toContain('Last verdict: fail at');
    expect(await page.textContent('#judge-verdict')).toContain('it quarantined p0');
    expect(await page.textContent('#health')).toContain('over the last 600 s: request errors, job failures, and p95 latency');
    expect(await page.textContent('#judge-metrics')).toContain('request errors');
    expect(await page.textContent('#judge-metrics')).toContain('p0 (');
    expect(await page.locator('#chart-canary rect.errors').count()).toBeGreaterThanOrEqual(1);
    expect(await page.locator('#chart-canary title').count()).toBe(11); // ten minutes back and the current one
    expect(await page.textContent('#canary-rate')).toMatch(/^\d+\.\d\d%$/);
    expect(await page.textContent('#quarantined')).toContain(quarantined);
    await page.locator('#health').screenshot({ path: path.join(shots, 'health.png') });
    console.log(`admin page health screenshot: ${path.join(shots, 'health.png')}`);

    await page.click(`#quarantined li:has-text("${quarantined}") button`);
    await page.waitForSelector('text=Released from quarantine');
    expect(await page.textContent('#health')).toContain('No platform is quarantined.');
    const status = (await (await h.call('GET', `/v1/admin/platforms/canary/${quarantined}`)).json()) as { source: string };
    expect(status.source).not.toBe('explicit');
    const audit = (await (await h.call('GET', `/v1/admin/canary/audit?platformId=${quarantined}`)).json()) as { entries: { actor: string; action: string }[] };
    expect(audit.entries[0]).toMatchObject({ actor: 'admin page', action: 'release' });
  });

  it('starts a release plan, shows it as a timeline with its state, and holds, resumes and aborts it with the buttons', async () => {
    await page.goto(`${h.url}/__canary/`);
    expect(await page.textContent('#plan')).toContain('No plan was ever started');
    await page.click('#plan summary');
    await page.fill('#plan input[name=steps]', '5,25,100');
    await page.fill('#plan input[name=bakeSeconds]', '600');
    await page.fill('#plan input[name=reason]', 'from the page');
    await page.click('#plan form[action$="plan-start"] button');
    await page.waitForSelector('text=Plan started');
    expect(await page.textContent('#plan-state')).toBe('running');
    expect(await page.locator('#plan-timeline li').allTextContents()).toEqual(['5% · bake 600 s starting', '25% · bake 600 s next', '100% · bake 600 s next']);
    await page.locator('#plan').screenshot({ path: path.join(shots, 'plan.png') });
    console.log(`admin page plan screenshot: ${path.join(shots, 'plan.png')}`);
    await page.click('#plan button:has-text("hold")');
    await page.waitForSelector('text=Plan held');
    expect(await page.textContent('#plan-state')).toBe('held');
    expect(await page.textContent('#plan-hold-reason')).toBe('held by admin page');
    await page.click('#plan button:has-text("resume")');
    await page.waitForSelector('text=Plan resumed');
    await page.click('#plan button:has-text("abort")');
    await page.waitForSelector('text=Plan aborted');
    expect(await page.textContent('#plan-state')).toBe('aborted');
    const audit = (await (await h.call('GET', '/v1/admin/canary/audit?limit=4')).json()) as { entries: { actor: string; action: string }[] };
    expect(audit.entries.map((e) => [e.actor, e.action])).toEqual([
      ['admin page', 'plan-abort'],
      ['admin page', 'plan-resume'],
      ['admin page', 'plan-hold'],
      ['admin page', 'plan-start'],
    ]);
  });

  it('refuses a form without its CSRF token, and a form posted from another site', async () => {
    const cookie = (await context.cookies()).find((c) => c.name === 'ap_canary_admin');
    const headers = { cookie: `ap_canary_admin=${cookie?.value ?? ''}`, 'content-type': 'application/x-www-form-urlencoded' };
    const noToken = await fetch(`${h.url}/__canary/actions/pause`, { method: 'POST', headers, body: 'reason=x' });
    expect(noToken.status).toBe(403);
    expect(await noToken.text()).toContain('CSRF check failed');
    const crossSite = await fetch(`${h.url}/__canary/actions/pause`, { method: 'POST', headers: { ...headers, origin: 'https://evil.example' }, body: 'reason=x' });
    expect(crossSite.status).toBe(403);
    expect(await routeOf(await h.seedPlatform())).toBe('primary');
    expect((await h.pool.query<{ paused: boolean }>('SELECT paused FROM canary_rollout')).rows[0]?.paused).toBe(false);
  });

  it('signs out for real: the copied session cookie opens nothing afterwards', async () => {
    await page.goto(`${h.url}/__canary/`);
    const copied = (await context.cookies()).find((c) => c.name === 'ap_canary_admin');
    expect(copied).toBeDefined();
    await page.click('button:text-is("Sign out")');
    await page.waitForSelector('text=Sign in with the admin key');
    expect((await context.cookies()).map((c) => c.name)).not.toContain('ap_canary_admin');
    // The cookie as it was before signing out, replayed from elsewhere: the session is over server-side.
    const replay = await fetch(`${h.url}/__canary/`, { headers: { cookie: `ap_canary_admin=${copied?.value ?? ''}` } });
    expect(await replay.text()).toContain('Sign in with the admin key');
  });

  it('signs out everywhere: another browser\'s session ends too', async () => {
    await signIn(h.apiKey);
    await page.waitForSelector('text=CANARY ROUTING ON');
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    try {
      await otherPage.goto(`${h.url}/__canary/`);
      await otherPage.fill('input[name=key]', h.apiKey);
      await otherPage.click('button[type=submit]');
      await otherPage.waitForSelector('text=CANARY ROUTING ON');
      await page.click('text=Sign out everywhere');
      await page.waitForSelector('text=Sign in with the admin key');
      await otherPage.reload();
      expect(await otherPage.textContent('body')).toContain('Sign in with the admin key');
      const audit = (await (await h.call('GET', '/v1/admin/canary/audit?limit=5')).json()) as { entries: { actor: string; action: string }[] };
      expect(audit.entries[0]).toMatchObject({ actor: 'admin page', action: 'sign-out-everywhere' });
    } finally {
      await other.close();
    }
  });
});
