import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintOverride } from '../../core/auth/override-token.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { roundTrips } from '../../testkit/round-trips.js';

// Tester overrides through the real edge: a signed, expiring token routes a request (or a browser, through a cookie)
// to the canary or the primary whatever the cohort says; anything wrong with it is ignored and logged, never a 4xx.

let h: EdgeHarness;
beforeAll(async () => {
  h = await startEdgeHarness();
});
afterAll(async () => {
  await h?.close();
});

interface Routed {
  origin: string | null;
  routed: string | null;
  status: number;
}

async function send(platformId: string | null, headers: Record<string, string> = {}, path = '/v1/flows'): Promise<Routed> {
  const auth: Record<string, string> = platformId === null ? {} : { authorization: `Bearer ${await signPrincipalJwt(h.jwtSecret, platformId)}` };
  const res = await fetch(`${h.url}${path}`, { headers: { ...auth, ...headers } });
  await res.arrayBuffer();
  return { origin: res.headers.get('x-origin'), routed: res.headers.get('x-canary-routed'), status: res.status };
}

async function mint(body: Record<string, unknown>): Promise<string> {
  const res = await h.call('POST', '/v1/admin/canary/overrides', body);
  expect(res.status).toBe(200);
  const { token, expiresAt } = (await res.json()) as { token: string; expiresAt: string };
  expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
  return token;
}

/** `token` with the character at `index` (negative: from the end) replaced by another. */
function flipChar(token: string, index: number): string {
  const i = index < 0 ? token.length + index : index;
  return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
}

/** `token` with the last base64url character's unused low bits set: other text, same decoded bytes. */
function withPaddingBits(token: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const last = alphabet.indexOf(token.slice(-1));
  return `${token.slice(0, -1)}${alphabet[last | 0b11] ?? ''}`;
}

const lastLog = (): Record<string, unknown> => JSON.parse(h.logs.filter((l) => l.includes('"msg":"request"')).at(-1) ?? '{}') as Record<string, unknown>;

describe('x-canary-override', () => {
  // Every routing rule of overrides is in test/edge/routing-table.test.ts; here a token minted by the real admin API
  // goes through the real edge and stores.
  it('routes to its target through the real edge, also while paused, in the one lookup every request makes', async () => {
    const [platformId, other] = [await h.seedPlatform(), await h.seedPlatform()];
    const anyPlatform = await mint({ target: 'canary', ttlSeconds: 3600 });
    const mine = await mint({ target: 'canary', ttlSeconds: 600, platformId });
    h.upstash.stats.reset();
    expect(await send(platformId, { 'x-canary-override': anyPlatform })).toEqual({ origin: 'canary', routed: 'canary', status: 200 });
    // The lookup also reads the revocation instant (and the platform's explicit choice): still one round trip.
    expect((await roundTrips(h.upstash.stats)).lookups).toBe(1);
    expect(lastLog()).toMatchObject({ override: 'honoured:canary', decision: 'override-canary' });
    expect((await h.call('POST', '/v1/admin/canary/pause', { reason: 'override drill' })).status).toBe(200);
    try {
      expect(await send(platformId, { 'x-canary-override': mine })).toEqual({ origin: 'canary', routed: 'canary', status: 200 });
      expect(await send(other, { 'x-canary-override': mine })).toEqual({ origin: 'primary', routed: null, status: 200 });
      expect(await send(platformId)).toMatchObject({ origin: 'primary' });
    } finally {
      expect((await h.call('POST', '/v1/admin/canary/resume')).status).toBe(200);
    }
  });

  it.each([
    // A character inside the MAC (the last one also carries padding bits, which a change there may not touch).
    ['tampered', async () => flipChar(await mint({ target: 'canary', ttlSeconds: 600 }), -10), 'ignored:tampered'],
    // The same MAC bytes spelt another way (padding bits set): refused before any HMAC is computed.
    ['non-canonical', async () => withPaddingBits(await mint({ target: 'canary', ttlSeconds: 600 })), 'ignored:malformed'],
    ['foreign (another secret)', async () => mintOverride('another-deployments-secret', { target: 'canary', platformId: null, expiresAt: Math.floor(Date.now() / 1000) + 600 }), 'ignored:tampered'],
  ])('ignores an %s token and routes the request as usual (never a 4xx), logging why', async (_what, token, logged) => {
    const platformId = await h.seedPlatform();
    expect(await send(platformId, { 'x-canary-override': await token() })).toEqual({ origin: 'primary', routed: null, status: 200 });
    expect(lastLog()).toMatchObject({ override: logged });
  });

  it('is never shown to an origin, nor usable as a principal JWT or a canary cookie', async () => {
    const token = await mint({ target: 'canary', ttlSeconds: 600 });
    const res = await fetch(`${h.url}/echo`, { headers: { 'x-canary-override': token, cookie: `ap_canary_override=${token}; other=1` } });
    const echo = (await res.json()) as { headers: Record<string, string> };
    expect(echo.headers['x-canary-override']).toBeUndefined();
    expect(echo.headers.cookie).toBe('other=1');
    expect(await send(null, { authorization: `Bearer ${token}` }, '/v1/flows')).toMatchObject({ origin: 'primary', routed: null });
    expect(await send(null, { cookie: `ap_canary=${token}` }, '/index.html')).toMatchObject({ origin: 'primary', routed: null });
  });
});

describe('the browser link /__canary/override', () => {
  /** The override page's confirmation form: its nonce (hidden field) and the cookie it came with. */
  async function openLink(token: string): Promise<{ res: Response; html: string; confirm: string; cookie: string }> {
    const res = await fetch(`${h.url}/__canary/override?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
    const html = await res.text();
    const confirm = /name="confirm" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const cookie = (res.headers.getSetCookie().find((c) => c.startsWith('ap_canary_override_confirm=')) ?? '').split(';')[0] ?? '';
    return { res, html, confirm, cookie };
  }

  const apply = (token: string, confirm: string, cookie: string, origin = h.url): Promise<Response> =>
    fetch(`${h.url}/__canary/override`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, confirm }),
    });

  it('sets nothing on a GET: it shows what the token does and a button that posts it', async () => {
    const platformId = await h.seedPlatform();
    const token = await mint({ target: 'canary', ttlSeconds: 900, platformId });
    const { res, html } = await openLink(token);
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('ap_canary_override='))).toBe(false);
    expect(html).toContain(platformId);
    expect(html).toContain('Apply to this browser');
  });

  it('sets an HttpOnly, Secure, SameSite=Lax cookie expiring with the token once posted, and the browser\'s static reads and Socket.IO follow it, never its API calls', async () => {
    const platformId = await h.seedPlatform();
    const token = await mint({ target: 'canary', ttlSeconds: 900, platformId });
    const { confirm, cookie } = await openLink(token);
    const res = await apply(token, confirm, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/');
    const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ap_canary_override=')) ?? '';
    const attributes = setCookie.split('; ');
    expect(attributes[0]).toBe(`ap_canary_override=${token}`);
    expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']));
    const maxAge = Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]);
    expect(maxAge).toBeGreaterThan(890);
    expect(maxAge).toBeLessThanOrEqual(900);
    const browser = { cookie: `ap_canary_override=${token}` };
    expect(await send(null, browser, '/socket.io/?EIO=4&transport=polling')).toEqual({ origin: 'canary', routed: 'canary', status: 200 });
    expect(await send(null, browser, '/assets/app.js')).toEqual({ origin: 'canary', routed: 'canary', status: 200 });
    expect(await send(platformId, browser, '/v1/flows')).toEqual({ origin: 'primary', routed: null, status: 200 });
    expect(lastLog()).toMatchObject({ override: 'ignored:cookie-not-for-api' });
  });

  it('refuses the post without the confirmation of its own page, from another site, or for a token of any platform', async () => {
    const platformId = await h.seedPlatform();
    const scoped = await mint({ target: 'canary', ttlSeconds: 900, platformId });
    const { confirm, cookie } = await openLink(scoped);
    expect((await apply(scoped, confirm, '')).status).toBe(403); // a form posted from elsewhere has no cookie
    expect((await apply(scoped, 'forged', cookie)).status).toBe(403);
    expect((await apply(scoped, confirm, cookie, 'https://evil.example')).status).toBe(403);
    expect((await apply(scoped, confirm, cookie, 'null')).status).toBe(403);
    const anyPlatform = await mint({ target: 'canary', ttlSeconds: 900 });
    const link = await openLink(anyPlatform);
    expect(link.html).toContain('works only as the x-canary-override header');
    expect(link.html).not.toContain('Apply to this browser');
    // Even posted with a valid confirmation (here the scoped page's), a token of any platform never becomes a cookie.
    const fresh = await openLink(scoped);
    const res = await apply(anyPlatform, fresh.confirm, fresh.cookie);
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie().some((c) => c.startsWith('ap_canary_override='))).toBe(false);
  });

  it('shows this browser\'s override and clears it with a posted form (a GET of the old clear link changes nothing)', async () => {
    const platformId = await h.seedPlatform();
    const token = await mint({ target: 'canary', ttlSeconds: 900, platformId });
    const legacy = await fetch(`${h.url}/__canary/override/clear`, { redirect: 'manual', headers: { cookie: `ap_canary_override=${token}` } });
    expect(legacy.status).toBe(303);
    expect(legacy.headers.getSetCookie().some((c) => c.startsWith('ap_canary_override='))).toBe(false);
    const page = await fetch(`${h.url}/__canary/override`, { headers: { cookie: `ap_canary_override=${token}` } });
    const html = await page.text();
    expect(html).toContain(platformId);
    const confirm = /name="confirm" value="([^"]+)"/.exec(html)?.[1] ?? '';
    const confirmCookie = (page.headers.getSetCookie().find((c) => c.startsWith('ap_canary_override_confirm=')) ?? '').split(';')[0] ?? '';
    const res = await fetch(`${h.url}/__canary/override/clear`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: `${confirmCookie}; ap_canary_override=${token}`, origin: h.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ confirm }),
    });
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie().find((c) => c.startsWith('ap_canary_override='))).toMatch(/^ap_canary_override=; .*Max-Age=0/);
  });

  it('answers 400 for an invalid or expired link, setting no cookie', async () => {
    const expired = await mintOverride(h.jwtSecret, { target: 'canary', platformId: null, expiresAt: Math.floor(Date.now() / 1000) - 5 });
    for (const token of [expired, 'nonsense']) {
      const res = await fetch(`${h.url}/__canary/override?token=${encodeURIComponent(token)}`, { redirect: 'manual' });
      expect(res.status).toBe(400);
      expect(res.headers.getSetCookie().some((c) => c.startsWith('ap_canary_override='))).toBe(false);
    }
  });
});

describe('POST /v1/admin/canary/overrides/revoke', () => {
  it('ignores every token minted before it from the next request on, header and cookie alike, still in one lookup, and audits it', async () => {
    const platformId = await h.seedPlatform();
    const [header, cookie] = [await mint({ target: 'canary', ttlSeconds: 900 }), await mint({ target: 'canary', ttlSeconds: 900, platformId })];
    expect(await send(platformId, { 'x-canary-override': header })).toMatchObject({ origin: 'canary' });
    const res = await h.call('POST', '/v1/admin/canary/overrides/revoke', { reason: 'token pasted in chat' }, { 'x-canary-actor': 'sec' });
    expect(res.status).toBe(200);
    const { revokedBefore } = (await res.json()) as { revokedBefore: string };
    expect(Date.parse(revokedBefore)).toBeLessThanOrEqual(Date.now());
    h.upstash.stats.reset();
    expect(await send(platformId, { 'x-canary-override': header })).toEqual({ origin: 'primary', routed: null, status: 200 });
    expect(lastLog()).toMatchObject({ override: 'ignored:revoked' });
    expect((await roundTrips(h.upstash.stats)).lookups).toBe(1);
    expect(await send(null, { cookie: `ap_canary_override=${cookie}` }, '/assets/app.js')).toMatchObject({ origin: 'primary', routed: null });
    // A token minted after the revocation works.
    expect(await send(platformId, { 'x-canary-override': await mint({ target: 'canary', ttlSeconds: 900 }) })).toMatchObject({ origin: 'canary' });
    const audit = (await (await h.call('GET', '/v1/admin/canary/audit?limit=5')).json()) as { entries: Record<string, unknown>[] };
    expect(audit.entries.find((e) => e.action === 'revoke-overrides')).toMatchObject({ actor: 'api:sec', reason: 'token pasted in chat' });
  });
});

describe('POST /v1/admin/canary/overrides', () => {
  it('is audited (who minted what, until when; never the token)', async () => {
    const platformId = await h.seedPlatform();
    const token = await mint({ target: 'canary', ttlSeconds: 120, platformId, reason: 'QA of release 7' });
    const audit = (await (await h.call('GET', `/v1/admin/canary/audit?platformId=${platformId}`)).json()) as { entries: Record<string, unknown>[] };
    expect(audit.entries[0]).toMatchObject({ action: 'override', actor: 'api-key', platformId, after: { target: 'canary' }, reason: 'QA of release 7' });
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it.each([
    [{ target: 'canary', ttlSeconds: 59 }],
    [{ target: 'canary', ttlSeconds: 86_401 }],
    [{ target: 'somewhere', ttlSeconds: 600 }],
    [{ target: 'canary', ttlSeconds: 600, platformId: 'has spaces' }],
    [{ target: 'canary' }],
  ])('answers 400 invalid_body for %j', async (body) => {
    const res = await h.call('POST', '/v1/admin/canary/overrides', body);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_body' } });
  });

  it('answers 401 without the api-key and 405 for GET', async () => {
    expect((await fetch(`${h.url}/v1/admin/canary/overrides`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await h.call('GET', '/v1/admin/canary/overrides')).status).toBe(405);
  });
});
