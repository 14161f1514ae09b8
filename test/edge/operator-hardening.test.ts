import { describe, expect, it } from 'vitest';
import { FAKE_API_KEY, fakeEdge, memorySessions } from './support/fake-edge.js';
import type { FakeEdge } from './support/fake-edge.js';
import { memoryControl } from './support/memory-control.js';
import type { MemoryControl } from './support/memory-control.js';

// The operator plane's refusals that the edge alone decides (DESIGN §8 "Operator plane hardening"), through
// `app.request` over in-memory stores. What needs the real stores (revocation, the page in a browser) is in
// test/edge-integration/overrides.test.ts and admin-page.test.ts.

function edgeWithControl(bindings: Record<string, string> = {}): { edge: FakeEdge; control: MemoryControl; sessions: ReturnType<typeof memorySessions> } {
  const control = memoryControl();
  const sessions = memorySessions();
  control.platforms.add('plat_a');
  return { edge: fakeEdge({ control, sessions, bindings }), control, sessions };
}

const admin = (edge: FakeEdge, path: string, init: { method?: string; key?: string; body?: unknown; headers?: Record<string, string> } = {}) =>
  edge.request(path, {
    method: init.method ?? 'GET',
    headers: { 'api-key': init.key ?? FAKE_API_KEY, 'content-type': 'application/json', 'cf-connecting-ip': '203.0.113.7', ...init.headers },
    body: init.body === undefined ? null : JSON.stringify(init.body),
  });

/** The page's sign-in as a browser does it: the login form's cookie and token, then the key. */
async function signIn(edge: FakeEdge, key = FAKE_API_KEY, ip = '203.0.113.7'): Promise<{ res: Response; session: string | null }> {
  const form = await edge.request('/__canary/', { headers: { 'cf-connecting-ip': ip } });
  const loginCookie = (form.headers.getSetCookie().find((c) => c.startsWith('ap_canary_admin_login=')) ?? '').split(';')[0] ?? '';
  const login = /name="login" value="([^"]+)"/.exec(await form.text())?.[1] ?? '';
  const res = await edge.request('/__canary/session', {
    method: 'POST',
    headers: { cookie: loginCookie, origin: 'https://edge.test', 'cf-connecting-ip': ip, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ login, key }),
  });
  const session = (res.headers.getSetCookie().find((c) => c.startsWith('ap_canary_admin=')) ?? '').split(';')[0] ?? null;
  return { res, session: session === '' ? null : session };
}

async function csrfOf(edge: FakeEdge, session: string): Promise<string> {
  const page = await edge.request('/__canary/', { headers: { cookie: session } });
  return /name="csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';
}

const post = (edge: FakeEdge, path: string, session: string, fields: Record<string, string>, origin: string | null = 'https://edge.test') =>
  edge.request(path, {
    method: 'POST',
    headers: { cookie: session, 'content-type': 'application/x-www-form-urlencoded', ...(origin === null ? {} : { origin }) },
    body: new URLSearchParams(fields),
  });

describe('failed admin authentications are budgeted per client', () => {
  it('answers 429 with Retry-After past 10 wrong keys, then refuses even the right key from that client, not from others', async () => {
    const { edge } = edgeWithControl();
    for (let i = 0; i < 10; i++) expect((await admin(edge, '/v1/admin/canary/rollout', { key: `wrong-${i}` })).status).toBe(401);
    const over = await admin(edge, '/v1/admin/canary/rollout', { key: 'wrong-again' });
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('60');
    expect(await over.json()).toMatchObject({ error: { code: 'too_many_attempts' } });
    expect((await admin(edge, '/v1/admin/canary/rollout')).status).toBe(429);
    expect((await admin(edge, '/v1/admin/canary/rollout', { headers: { 'cf-connecting-ip': '198.51.100.9' } })).status).toBe(200);
  });

  it('counts a missing key as nothing', async () => {
    const { edge } = edgeWithControl();
    for (let i = 0; i < 15; i++) expect((await edge.request('/v1/admin/canary/rollout', { headers: { 'cf-connecting-ip': '203.0.113.7' } })).status).toBe(401);
    expect((await admin(edge, '/v1/admin/canary/rollout')).status).toBe(200);
  });

  it('budgets the page sign-in the same way', async () => {
    const { edge } = edgeWithControl();
    for (let i = 0; i < 10; i++) expect((await signIn(edge, `wrong-${i}`)).res.status).toBe(401);
    expect((await signIn(edge, 'wrong-again')).res.status).toBe(429);
    const { res, session } = await signIn(edge);
    expect([res.status, session]).toEqual([429, null]);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await res.text()).toContain('Too many failed sign-ins');
  });

  it('refuses to serve with an admin key shorter than 32 characters outside local development, naming the fix', async () => {
    const short = fakeEdge({ bindings: { AP_API_KEY: 'short-key' } });
    const res = await short.request('/v1/flows');
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('edge_misconfigured');
    expect(body.error.message).toContain('AP_API_KEY: must be at least 32 characters');
    expect(body.error.message).toContain('openssl rand -hex 32');
    expect(body.error.message).not.toContain('short-key');
    const local = fakeEdge({ bindings: { AP_API_KEY: 'short-key', LOCAL_DEVELOPMENT: 'true' } });
    expect((await local.request('/v1/flows')).status).toBe(200);
  });
});

describe('page sessions live server-side', () => {
  it('ends for real on sign-out: the old cookie opens nothing any more', async () => {
    const { edge, sessions } = edgeWithControl();
    const { session } = await signIn(edge);
    expect(session).not.toBeNull();
    const cookie = session ?? '';
    expect(await (await edge.request('/__canary/', { headers: { cookie } })).text()).toContain('CANARY ROUTING ON');
    const out = await post(edge, '/__canary/session/end', cookie, { csrf: await csrfOf(edge, cookie) });
    expect(out.status).toBe(303);
    expect(sessions.live.size).toBe(0);
    const replay = await edge.request('/__canary/', { headers: { cookie } });
    expect(await replay.text()).toContain('Sign in with the admin key');
    expect((await post(edge, '/__canary/actions/pause', cookie, { csrf: 'whatever' })).status).toBe(401);
  });

  it('needs the CSRF token to sign out, and refuses posts from another origin or Origin: null', async () => {
    const { edge, sessions } = edgeWithControl();
    const cookie = (await signIn(edge)).session ?? '';
    const csrf = await csrfOf(edge, cookie);
    expect((await post(edge, '/__canary/session/end', cookie, {})).status).toBe(403);
    expect((await post(edge, '/__canary/session/end', cookie, { csrf }, 'null')).status).toBe(403);
    expect((await post(edge, '/__canary/session/end', cookie, { csrf }, 'https://evil.example')).status).toBe(403);
    expect(sessions.live.size).toBe(1);
  });

  it('signs out everywhere: every session ends, audited by the page', async () => {
    const { edge, sessions } = edgeWithControl();
    const first = (await signIn(edge)).session ?? '';
    const second = (await signIn(edge)).session ?? '';
    expect(sessions.live.size).toBe(2);
    expect((await post(edge, '/__canary/session/end-all', first, { csrf: await csrfOf(edge, first) })).status).toBe(303);
    expect(sessions.live.size).toBe(0);
    expect(await (await edge.request('/__canary/', { headers: { cookie: second } })).text()).toContain('Sign in with the admin key');
  });
});

describe('the audit log\'s "who" and "why"', () => {
  it.each(['guard', 'judge', 'plan', 'admin page'])('records a caller naming itself %j as api:<name>', async (name) => {
    const { edge, control } = edgeWithControl();
    expect((await admin(edge, '/v1/admin/canary/pause', { method: 'POST', body: {}, headers: { 'x-canary-actor': name } })).status).toBe(200);
    expect(control.entries[0]).toMatchObject({ actor: `api:${name}`, action: 'pause' });
  });

  it.each([
    ['an escape sequence', '\u001b[2Jall clear'],
    ['a carriage return', 'ok\rFORGED'],
    ['a bidirectional override', 'safe\u202egnp.exe'],
    ['DEL', 'x\u007f'],
  ])('refuses a reason with %s (400), on the API and the page alike, and changes nothing', async (_what, reason) => {
    const { edge, control } = edgeWithControl();
    const res = await admin(edge, '/v1/admin/canary/pause', { method: 'POST', body: { reason } });
    expect(res.status).toBe(400);
    const message = ((await res.json()) as { error: { message: string } }).error.message;
    expect(message).toContain('reason: must not contain control characters');
    const cookie = (await signIn(edge)).session ?? '';
    const page = await post(edge, '/__canary/actions/pause', cookie, { csrf: await csrfOf(edge, cookie), reason });
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('reason: must not contain control characters');
    expect(control.state.paused).toBe(false);
  });

  it('refuses an actor name with control characters', async () => {
    const { edge } = edgeWithControl();
    const res = await admin(edge, '/v1/admin/canary/pause', { method: 'POST', body: {}, headers: { 'x-canary-actor': 'ops\u0007' } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_actor' } });
  });

  it('refuses on the page the reason the API refuses for length, with the same message (no silent truncation)', async () => {
    const { edge, control } = edgeWithControl();
    const reason = 'x'.repeat(501);
    const api = ((await (await admin(edge, '/v1/admin/canary/pause', { method: 'POST', body: { reason } })).json()) as { error: { message: string } }).error.message;
    const cookie = (await signIn(edge)).session ?? '';
    const page = await post(edge, '/__canary/actions/pause', cookie, { csrf: await csrfOf(edge, cookie), reason });
    expect(page.status).toBe(400);
    expect(api).toContain('reason: must be at most 500 characters');
    expect(await page.text()).toContain('reason: must be at most 500 characters');
    expect(control.state.paused).toBe(false);
  });
});

describe('ADMIN_HOSTNAME: the operator plane on a host of its own', () => {
  const ADMIN_HOST = 'canary-admin.test';
  const on = (host: string, path: string, headers: Record<string, string> = {}) => ({ url: `https://${host}${path}`, headers });

  it.each([
    ['the page', '/__canary/'],
    ['the page\'s stylesheet', '/__canary/assets/admin.css'],
    ['the rollout route', '/v1/admin/canary/rollout'],
    ['the health route', '/v1/admin/canary/health'],
  ])('answers %s with a 404 envelope on any other host, and serves it on that host', async (_what, path) => {
    const { edge } = edgeWithControl({ ADMIN_HOSTNAME: ADMIN_HOST });
    const elsewhere = on('edge.test', path, { 'api-key': FAKE_API_KEY });
    const res = await edge.app.request(elsewhere.url, { headers: elsewhere.headers }, edge.env);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
    const there = on(ADMIN_HOST, path, { 'api-key': FAKE_API_KEY });
    expect((await edge.app.request(there.url, { headers: there.headers }, edge.env)).status).not.toBe(404);
  });

  it('keeps the seed contract\'s route and the tester\'s override page on every host', async () => {
    const { edge } = edgeWithControl({ ADMIN_HOSTNAME: ADMIN_HOST });
    expect((await edge.app.request('https://edge.test/v1/admin/platforms/canary', { headers: { 'api-key': FAKE_API_KEY } }, edge.env)).status).toBe(200);
    expect((await edge.app.request('https://edge.test/__canary/override', {}, edge.env)).status).toBe(200);
  });
});

describe('cookies only the edge may set', () => {
  it.each(['ap_canary', 'ap_canary_override', 'ap_canary_admin', 'ap_canary_admin_login', 'ap_canary_override_confirm'])(
    'drops an origin\'s Set-Cookie for %s and keeps the app\'s own',
    async (name) => {
      const { edge } = edgeWithControl();
      edge.origins.primary = { kind: 'up', setCookies: [`${name}=planted; Path=/`, 'session=app; Path=/; HttpOnly', `${name}x=fine; Path=/`] };
      const res = await edge.request('/v1/flows');
      expect(res.headers.getSetCookie()).toEqual(['session=app; Path=/; HttpOnly', `${name}x=fine; Path=/`]);
    },
  );
});
