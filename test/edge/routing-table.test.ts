import { describe, expect, it } from 'vitest';
import { fakeEdge } from './support/fake-edge.js';
import type { FakeEdge, FakeMembership } from './support/fake-edge.js';
import { algNoneJwt, bearer, buildCookie, canaryCookie, overrideToken, principalJwt } from './support/requests.js';

// The routing table of the edge, rule by rule (README "How the edge routes a request"), driven with `app.request`
// over in-memory stores and origins (support/fake-edge.ts). Each rule is a table of cases; the workerd tests
// (test/edge-integration) keep what only workerd and the real stores show.

const P = 'plat_table_1';
const OTHER = 'plat_table_2';
const FLOW = 'flow_table_1';
const KEY = 'sk-table-key-0123456789abcdef';

/** A request a client sends, built for the platform P. */
interface RequestCase {
  method: string;
  path: string;
  headers: () => Promise<Record<string, string>>;
  /** What the log line names as the source of the platform. */
  source: 'jwt' | 'api-key' | 'webhook' | 'cookie';
  /** The first candidate, when another one names the platform (asked first; what the log names when none answers). */
  first?: 'api-key';
}

const noHeaders = () => Promise.resolve({});

/** Rule 1, every way a request can name P (first match wins). */
const RESOLUTION_PATHS: Record<string, RequestCase> = {
  'JWT of type USER': { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { type: 'USER' })), source: 'jwt' },
  'JWT of type SERVICE': { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { type: 'SERVICE' })), source: 'jwt' },
  'JWT of type ENGINE': { method: 'POST', path: '/v1/engine/runs', headers: async () => bearer(await principalJwt(P, { type: 'ENGINE' })), source: 'jwt' },
  'platform API key': { method: 'GET', path: '/v1/flows', headers: async () => bearer(KEY), source: 'api-key' },
  'webhook': { method: 'POST', path: `/v1/webhooks/${FLOW}`, headers: noHeaders, source: 'webhook' },
  'webhook /sync': { method: 'POST', path: `/v1/webhooks/${FLOW}/sync`, headers: noHeaders, source: 'webhook' },
  'webhook /draft': { method: 'POST', path: `/v1/webhooks/${FLOW}/draft`, headers: noHeaders, source: 'webhook' },
  'webhook /test': { method: 'GET', path: `/v1/webhooks/${FLOW}/test`, headers: noHeaders, source: 'webhook' },
  'percent-encoded webhook path': { method: 'POST', path: `/%761/webhooks/${FLOW}`, headers: noHeaders, source: 'webhook' },
  'unknown API key, then the webhook': { method: 'POST', path: `/v1/webhooks/${FLOW}`, headers: async () => bearer('sk-unknown-key-0123456789'), source: 'webhook', first: 'api-key' },
  'cookie on the SPA document': { method: 'GET', path: '/', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' },
  'cookie on a static asset (HEAD)': { method: 'HEAD', path: '/assets/app.js', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' },
  'cookie on Socket.IO polling': { method: 'GET', path: '/socket.io/?EIO=4&transport=polling', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' },
  'cookie on a Socket.IO POST': { method: 'POST', path: '/socket.io/?EIO=4&transport=polling&sid=x', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' },
};

/** Rule 2, what the cohort answers for P, and where that sends P's requests. */
const ANSWERS: Record<string, { membership: FakeMembership | 'stores down'; origin: 'canary' | 'primary' }> = {
  'pinned in': { membership: { canary: true, source: 'explicit' }, origin: 'canary' },
  'inside the rollout': { membership: { canary: true, source: 'rollout' }, origin: 'canary' },
  'excluded': { membership: { canary: false, source: 'explicit' }, origin: 'primary' },
  'no choice, outside the rollout': { membership: { canary: false, source: 'default' }, origin: 'primary' },
  'paused (kill switch)': { membership: { canary: false, source: 'paused' }, origin: 'primary' },
  'both stores down (fail open)': { membership: 'stores down', origin: 'primary' },
};

async function edgeWith(answer: FakeMembership | 'stores down', options: Parameters<typeof fakeEdge>[0] = {}): Promise<FakeEdge> {
  const edge = fakeEdge(options);
  edge.flows.set(FLOW, P);
  await edge.addApiKey(KEY, P);
  edge.platforms.set(OTHER, { canary: false, source: 'default' });
  if (answer === 'stores down') {
    edge.platforms.set(P, { canary: true, source: 'explicit' }); // what the stores would say, if they answered
    edge.storesDown = true;
  } else edge.platforms.set(P, answer);
  return edge;
}

async function send(edge: FakeEdge, c: RequestCase, extra: Record<string, string> = {}): Promise<Response> {
  return edge.request(c.path, { method: c.method, headers: { ...(await c.headers()), ...extra }, body: c.method === 'GET' || c.method === 'HEAD' ? null : '{}' });
}

const lastLog = (edge: FakeEdge): Record<string, unknown> => edge.logs.at(-1) ?? {};

const CASES = Object.entries(RESOLUTION_PATHS).flatMap(([path, request]) => Object.entries(ANSWERS).map(([answer, expected]) => ({ path, request, answer, ...expected })));

describe('rule 1 and 2: each way a request names its platform × each answer of the cohort', () => {
  it.each(CASES)('$path, platform $answer → $origin', async ({ request, membership, origin }) => {
    const edge = await edgeWith(membership);
    const res = await send(edge, request);
    expect(res.headers.get('x-origin')).toBe(origin);
    expect(edge.forwarded).toHaveLength(1);
    if (membership === 'stores down') {
      // Nothing answers: a key or a flow names no platform, and the first candidate is the last one asked.
      const direct = request.source === 'jwt' || request.source === 'cookie';
      expect(lastLog(edge)).toMatchObject({ source: request.first ?? request.source, platformId: direct ? P : null, origin, decision: origin, authority: 'none' });
    } else {
      expect(lastLog(edge)).toMatchObject({ source: request.source, platformId: P, origin, decision: origin, authority: 'cache' });
    }
  });
});

describe('rule 1: requests that name no platform go to the primary', () => {
  const UNRESOLVED: [string, RequestCase, 'lookup' | 'no lookup'][] = [
    ['no credentials at all', { method: 'GET', path: '/', headers: noHeaders, source: 'jwt' }, 'no lookup'],
    ['an expired JWT', { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { expiresIn: -10 })), source: 'jwt' }, 'no lookup'],
    ['a JWT without exp', { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { exp: false })), source: 'jwt' }, 'no lookup'],
    ['a JWT under another secret', { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { secret: 'another-secret-0123456789' })), source: 'jwt' }, 'no lookup'],
    ['an alg:none JWT', { method: 'GET', path: '/v1/flows', headers: async () => bearer(algNoneJwt(P)), source: 'jwt' }, 'no lookup'],
    ['a WORKER JWT', { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt(P, { type: 'WORKER' })), source: 'jwt' }, 'no lookup'],
    ['a JWT naming a platform id outside the rule', { method: 'GET', path: '/v1/flows', headers: async () => bearer(await principalJwt('plat.with.dots')), source: 'jwt' }, 'no lookup'],
    ['a garbage bearer token', { method: 'GET', path: '/v1/flows', headers: async () => bearer('not.a.jwt'), source: 'jwt' }, 'no lookup'],
    ['an sk- key that cannot be a platform key', { method: 'GET', path: '/v1/flows', headers: async () => bearer('sk-short'), source: 'api-key' }, 'no lookup'],
    ['an unknown API key', { method: 'GET', path: '/v1/flows', headers: async () => bearer('sk-unknown-key-0123456789'), source: 'api-key' }, 'lookup'],
    ['an unknown flow', { method: 'POST', path: '/v1/webhooks/flow_unknown', headers: noHeaders, source: 'webhook' }, 'lookup'],
    ['the cookie on an API read (GET /v1/flags)', { method: 'GET', path: '/v1/flags', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' }, 'no lookup'],
    ['the cookie on an API write (POST /v1/authentication/sign-in)', { method: 'POST', path: '/v1/authentication/sign-in', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' }, 'no lookup'],
    ['the cookie on a POST outside the API (POST /upload)', { method: 'POST', path: '/upload', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' }, 'no lookup'],
    ['the cookie on /api/ reads', { method: 'GET', path: '/api/v1/flows', headers: async () => ({ cookie: await canaryCookie(P) }), source: 'cookie' }, 'no lookup'],
    ['an expired cookie', { method: 'GET', path: '/', headers: async () => ({ cookie: await canaryCookie(P, { expired: true }) }), source: 'cookie' }, 'no lookup'],
    ['a cookie under another secret', { method: 'GET', path: '/', headers: async () => ({ cookie: await canaryCookie(P, { secret: 'another-secret-0123456789' }) }), source: 'cookie' }, 'no lookup'],
    ['a tampered cookie', { method: 'GET', path: '/', headers: async () => ({ cookie: (await canaryCookie(P)).replace(/\.([^.]*)$/, '.AAAA$1') }), source: 'cookie' }, 'no lookup'],
    ['a cookie whose platform was changed', { method: 'GET', path: '/', headers: async () => ({ cookie: (await canaryCookie(P)).replace(P, `${P}x`) }), source: 'cookie' }, 'no lookup'],
    ['a garbage cookie', { method: 'GET', path: '/', headers: () => Promise.resolve({ cookie: 'ap_canary=garbage' }), source: 'cookie' }, 'no lookup'],
  ];

  it.each(UNRESOLVED)('%s → primary (%s)', async (_name, request, lookup) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    const res = await send(edge, request);
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(edge.lookups.length > 0).toBe(lookup === 'lookup');
    expect(lastLog(edge)).toMatchObject({ origin: 'primary', decision: lookup === 'lookup' ? 'primary' : 'unresolved' });
  });
});

describe('rule 4: the ap_canary cookie', () => {
  type CookieExpectation = 'set' | 'cleared' | 'untouched';
  const present = async () => ({ cookie: await canaryCookie(P) });
  const jwt = async () => bearer(await principalJwt(P));
  const jwtWithCookie = async () => ({ ...(await jwt()), ...(await present()) });
  const key = () => Promise.resolve(bearer(KEY));
  const keyWithCookie = async () => ({ ...bearer(KEY), ...(await present()) });
  const COOKIE_CASES: [string, RequestCase, keyof typeof ANSWERS, CookieExpectation][] = [
    ['a JWT principal the canary serves', { method: 'GET', path: '/v1/me', headers: jwt, source: 'jwt' }, 'pinned in', 'set'],
    ['a JWT principal inside the rollout', { method: 'GET', path: '/v1/me', headers: jwt, source: 'jwt' }, 'inside the rollout', 'set'],
    ['an API-key principal the canary serves', { method: 'GET', path: '/v1/me', headers: key, source: 'api-key' }, 'pinned in', 'set'],
    ['a JWT principal that already has it, still on the canary', { method: 'GET', path: '/v1/me', headers: jwtWithCookie, source: 'jwt' }, 'pinned in', 'set'],
    ['a JWT principal on the primary, without the cookie', { method: 'GET', path: '/v1/me', headers: jwt, source: 'jwt' }, 'no choice, outside the rollout', 'untouched'],
    ['a JWT principal with the cookie, now excluded', { method: 'GET', path: '/v1/me', headers: jwtWithCookie, source: 'jwt' }, 'excluded', 'cleared'],
    ['a JWT principal with the cookie, now outside the rollout', { method: 'GET', path: '/v1/me', headers: jwtWithCookie, source: 'jwt' }, 'no choice, outside the rollout', 'cleared'],
    ['a JWT principal with the cookie, while paused', { method: 'GET', path: '/v1/me', headers: jwtWithCookie, source: 'jwt' }, 'paused (kill switch)', 'cleared'],
    ['a JWT principal with the cookie, stores down (not authoritative)', { method: 'GET', path: '/v1/me', headers: jwtWithCookie, source: 'jwt' }, 'both stores down (fail open)', 'untouched'],
    ['an API-key principal with the cookie, now excluded', { method: 'GET', path: '/v1/me', headers: keyWithCookie, source: 'api-key' }, 'excluded', 'cleared'],
    ['a cookie-only static read, platform still on the canary', { method: 'GET', path: '/', headers: present, source: 'cookie' }, 'pinned in', 'untouched'],
    ['a cookie-only static read, platform excluded', { method: 'GET', path: '/', headers: present, source: 'cookie' }, 'excluded', 'cleared'],
    ['a cookie-only Socket.IO request, platform paused', { method: 'GET', path: '/socket.io/?EIO=4', headers: present, source: 'cookie' }, 'paused (kill switch)', 'cleared'],
    ['a cookie-only static read, stores down', { method: 'GET', path: '/', headers: present, source: 'cookie' }, 'both stores down (fail open)', 'untouched'],
    ['a webhook of a canary platform (not a principal)', { method: 'POST', path: `/v1/webhooks/${FLOW}`, headers: noHeaders, source: 'webhook' }, 'pinned in', 'untouched'],
    ['a webhook with the cookie, platform excluded (not a principal)', { method: 'POST', path: `/v1/webhooks/${FLOW}`, headers: present, source: 'webhook' }, 'excluded', 'untouched'],
  ];

  it.each(COOKIE_CASES)('%s (%s, %s): %s', async (_name, request, answer, expected) => {
    const edge = await edgeWith((ANSWERS[answer] ?? { membership: 'stores down' }).membership);
    const setCookie = (await send(edge, request)).headers.get('set-cookie');
    if (expected === 'untouched') expect(setCookie).toBeNull();
    if (expected === 'cleared') expect(setCookie?.split('; ')).toEqual(expect.arrayContaining(['ap_canary=', 'Max-Age=0', 'Path=/']));
    if (expected === 'set') {
      expect(setCookie).toMatch(new RegExp(`^ap_canary=${P}\\.\\d+\\.[A-Za-z0-9_-]{43};`));
      expect(new Set(setCookie?.split('; ').slice(1))).toEqual(new Set(['Max-Age=86400', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']));
    }
  });

  it('is not set when the canary could not serve and the primary did (a fallback)', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'down' };
    const res = await send(edge, { method: 'GET', path: '/v1/me', headers: jwt, source: 'jwt' });
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(res.headers.get('set-cookie')).toBeNull();
  });
});

describe('tester overrides (x-canary-override and its browser cookie): before the cohort, also while paused', () => {
  const REVOKED_AT = Date.now() - 60_000;
  type TokenKind =
    | 'any platform → canary'
    | 'any platform → primary'
    | 'P → canary'
    | 'P → primary'
    | 'another platform → canary'
    | 'expired → canary'
    | 'revoked → canary'
    | 'tampered'
    | 'malformed';
  const TOKENS: Record<TokenKind, () => Promise<string>> = {
    'any platform → canary': () => overrideToken('canary', null),
    'any platform → primary': () => overrideToken('primary', null),
    'P → canary': () => overrideToken('canary', P),
    'P → primary': () => overrideToken('primary', P),
    'another platform → canary': () => overrideToken('canary', OTHER),
    'expired → canary': () => overrideToken('canary', null, { expired: true }),
    'revoked → canary': () => overrideToken('canary', null, { issuedAtMs: REVOKED_AT - 1 }),
    // A character inside the MAC (the last one also carries spare bits: changing it may only make the token malformed).
    tampered: async () => {
      const token = await overrideToken('canary', null);
      const i = token.length - 10;
      return `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
    },
    malformed: () => Promise.resolve('ov1.not-a-token'),
  };
  type Column = 'pinned in' | 'no choice, outside the rollout' | 'excluded' | 'paused (kill switch)' | 'both stores down (fail open)';
  type Cell = readonly ['canary' | 'primary', string];
  // Where P's request goes and what the log says, by token (rows) and by what the cohort answers (columns). A token of
  // any platform never sends an excluded platform to the canary; one no store can check against revocation is ignored.
  const TABLE: [TokenKind, Record<Column, Cell>][] = [
    ['any platform → canary', { 'pinned in': ['canary', 'honoured:canary'], 'no choice, outside the rollout': ['canary', 'honoured:canary'], excluded: ['primary', 'ignored:excluded'], 'paused (kill switch)': ['canary', 'honoured:canary'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['any platform → primary', { 'pinned in': ['primary', 'honoured:primary'], 'no choice, outside the rollout': ['primary', 'honoured:primary'], excluded: ['primary', 'honoured:primary'], 'paused (kill switch)': ['primary', 'honoured:primary'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['P → canary', { 'pinned in': ['canary', 'honoured:canary'], 'no choice, outside the rollout': ['canary', 'honoured:canary'], excluded: ['canary', 'honoured:canary'], 'paused (kill switch)': ['canary', 'honoured:canary'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['P → primary', { 'pinned in': ['primary', 'honoured:primary'], 'no choice, outside the rollout': ['primary', 'honoured:primary'], excluded: ['primary', 'honoured:primary'], 'paused (kill switch)': ['primary', 'honoured:primary'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['another platform → canary', { 'pinned in': ['canary', 'ignored:other-platform'], 'no choice, outside the rollout': ['primary', 'ignored:other-platform'], excluded: ['primary', 'ignored:other-platform'], 'paused (kill switch)': ['primary', 'ignored:other-platform'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['expired → canary', { 'pinned in': ['canary', 'ignored:expired'], 'no choice, outside the rollout': ['primary', 'ignored:expired'], excluded: ['primary', 'ignored:expired'], 'paused (kill switch)': ['primary', 'ignored:expired'], 'both stores down (fail open)': ['primary', 'ignored:expired'] }],
    ['revoked → canary', { 'pinned in': ['canary', 'ignored:revoked'], 'no choice, outside the rollout': ['primary', 'ignored:revoked'], excluded: ['primary', 'ignored:revoked'], 'paused (kill switch)': ['primary', 'ignored:revoked'], 'both stores down (fail open)': ['primary', 'ignored:unverified'] }],
    ['tampered', { 'pinned in': ['canary', 'ignored:tampered'], 'no choice, outside the rollout': ['primary', 'ignored:tampered'], excluded: ['primary', 'ignored:tampered'], 'paused (kill switch)': ['primary', 'ignored:tampered'], 'both stores down (fail open)': ['primary', 'ignored:tampered'] }],
    ['malformed', { 'pinned in': ['canary', 'ignored:malformed'], 'no choice, outside the rollout': ['primary', 'ignored:malformed'], excluded: ['primary', 'ignored:malformed'], 'paused (kill switch)': ['primary', 'ignored:malformed'], 'both stores down (fail open)': ['primary', 'ignored:malformed'] }],
  ];
  const OVERRIDE_CASES = TABLE.flatMap(([token, byAnswer]) => Object.entries(byAnswer).map(([answer, [origin, log]]) => ({ token, answer, origin, log })));

  const paused = { canary: false, source: 'paused', explicit: null } as const;
  const membershipOf = (answer: string): FakeMembership | 'stores down' =>
    answer === 'paused (kill switch)' ? paused : (ANSWERS[answer] ?? { membership: 'stores down' as const }).membership;

  it.each(OVERRIDE_CASES)('a $token token, platform $answer → $origin ($log)', async ({ token, answer, origin, log }) => {
    const edge = await edgeWith(membershipOf(answer));
    edge.overridesRevokedBeforeMs = REVOKED_AT;
    const jwt = bearer(await principalJwt(P));
    const res = await edge.request('/v1/flows', { headers: { ...jwt, 'x-canary-override': await TOKENS[token]() } });
    expect(res.headers.get('x-origin')).toBe(origin);
    expect(lastLog(edge)).toMatchObject({ override: log });
    const honoured = log.startsWith('honoured');
    // An honoured override says where it went and leaves the canary cookie alone; an ignored one changes nothing.
    expect(res.headers.get('x-canary-routed')).toBe(honoured ? origin : null);
    if (honoured) expect(res.headers.get('set-cookie')).toBeNull();
    expect(edge.forwarded[0]?.headers.has('x-canary-override')).toBe(false);
    // Checking a token costs no more than the one lookup every request makes.
    expect(edge.lookups.length).toBeLessThanOrEqual(1);
  });

  it('paused hides an explicit exclusion from the source, not from the override rule', async () => {
    const edge = await edgeWith({ canary: false, source: 'paused', explicit: 'out' });
    const res = await edge.request('/v1/flows', { headers: { ...bearer(await principalJwt(P)), 'x-canary-override': await overrideToken('canary', null) } });
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(lastLog(edge)).toMatchObject({ override: 'ignored:excluded' });
  });

  it('routes a request that names no platform by a token valid for any platform, after one lookup of the state', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    const res = await edge.request('/', { headers: { 'x-canary-override': await overrideToken('canary', null) } });
    expect(res.headers.get('x-origin')).toBe('canary');
    expect(edge.lookups).toEqual([{ kind: 'none' }]);
  });

  it('reads the state once more when the request named an unknown key (no state in that answer)', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    const res = await edge.request('/v1/flows', { headers: { ...bearer('sk-unknown-key-0123456789'), 'x-canary-override': await overrideToken('canary', null) } });
    expect(res.headers.get('x-origin')).toBe('canary');
    expect(edge.lookups.map((l) => l.kind)).toEqual(['api-key', 'none']);
  });

  describe('in the browser cookie (what the override page sets)', () => {
    const cookieCase = async (token: string, path: string, method = 'GET', membership: FakeMembership = { canary: false, source: 'default' }) => {
      const edge = await edgeWith(membership);
      edge.overridesRevokedBeforeMs = REVOKED_AT;
      const res = await edge.request(path, { method, headers: { cookie: `theme=dark; ap_canary_override=${token}` }, body: method === 'POST' ? '{}' : null });
      return { edge, origin: res.headers.get('x-origin'), log: lastLog(edge) };
    };

    it.each([
      ['the SPA document', '/'],
      ['a static asset', '/assets/app.js'],
      ['Socket.IO polling', '/socket.io/?EIO=4&transport=polling'],
    ])('a one-platform token steers %s of its platform (the cookie names it)', async (_what, path) => {
      const { edge, origin, log } = await cookieCase(await overrideToken('canary', P), path);
      expect([origin, log.override, log.source]).toEqual(['canary', 'honoured:canary', 'override']);
      expect(edge.forwarded[0]?.headers.get('cookie')).toBe('theme=dark');
    });

    it.each([
      ['an API read', '/v1/flows', 'GET'],
      ['an API write', '/v1/flows', 'POST'],
      ['a write outside the API', '/upload', 'POST'],
    ])('never steers %s', async (_what, path, method) => {
      const { origin, log } = await cookieCase(await overrideToken('canary', P), path, method);
      expect([origin, log.override]).toEqual(['primary', 'ignored:cookie-not-for-api']);
    });

    it('never carries a token of any platform', async () => {
      const { origin, log } = await cookieCase(await overrideToken('canary', null), '/');
      expect([origin, log.override]).toEqual(['primary', 'ignored:cookie-any-platform']);
    });

    it('is ignored once revoked', async () => {
      const { origin, log } = await cookieCase(await overrideToken('canary', P, { issuedAtMs: REVOKED_AT }), '/');
      expect([origin, log.override]).toEqual(['primary', 'ignored:revoked']);
    });
  });

  it('reaches no canary with canary routing off', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' }, { canaryRouting: false });
    const res = await edge.request('/v1/flows', { headers: { 'x-canary-override': await overrideToken('canary', null) } });
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(edge.lookups).toEqual([]);
  });
});

describe('what the origin is told about how a request was routed', () => {
  it('says x-canary-routed-by: override for a request an override routed (its sockets are not moved at a flip), and drops a client\'s own copy', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    const token = await principalJwt(P);
    await edge.request('/socket.io/?EIO=4&transport=polling', { headers: { ...bearer(token), 'x-canary-override': await overrideToken('canary', P) } });
    expect(edge.forwarded.at(-1)?.headers.get('x-canary-routed-by')).toBe('override');
    await edge.request('/socket.io/?EIO=4&transport=polling', { headers: { ...bearer(token), 'x-canary-routed-by': 'override' } });
    expect(edge.forwarded.at(-1)).toMatchObject({ origin: 'primary' });
    expect(edge.forwarded.at(-1)?.headers.get('x-canary-routed-by')).toBeNull();
  });
});

describe('faults: stores, the unknown-id budget, origins', () => {
  it('fails open to the primary when both stores are down, and logs it', async () => {
    const edge = await edgeWith('stores down');
    const res = await send(edge, RESOLUTION_PATHS['JWT of type USER'] as RequestCase);
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(lastLog(edge)).toMatchObject({ authority: 'none', error: 'membership stores unavailable; routed to primary' });
  });

  it.each([
    ['an unknown API key', { method: 'GET', path: '/v1/flows', headers: async () => bearer('sk-unknown-key-0123456789'), source: 'api-key' }],
    ['an unknown flow', { method: 'POST', path: '/v1/webhooks/flow_unknown', headers: noHeaders, source: 'webhook' }],
  ] as [string, RequestCase][])('answers 429 rate_limited with Retry-After, forwarding nothing, for %s over the client budget', async (_name, request) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.limiterAdmits = false;
    const res = await send(edge, request);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('60');
    expect(await res.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(edge.forwarded).toEqual([]);
  });

  it('never asks the budget for a known id', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.limiterAdmits = false;
    expect((await send(edge, RESOLUTION_PATHS['platform API key'] as RequestCase)).headers.get('x-origin')).toBe('canary');
  });

  const canaryPrincipal = async () => bearer(await principalJwt(P));
  it.each([
    ['GET', 'primary', 200],
    ['HEAD', 'primary', 200],
    ['OPTIONS', 'primary', 200],
    ['POST', null, 502],
    ['PUT', null, 502],
    ['PATCH', null, 502],
    ['DELETE', null, 502],
  ] as const)('canary down: %s is served by %s (%i)', async (method, servedBy, status) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'down' };
    const res = await edge.request('/v1/flows', { method, headers: await canaryPrincipal(), body: method === 'GET' || method === 'HEAD' || method === 'OPTIONS' ? null : '{}' });
    expect(res.status).toBe(status);
    expect(res.headers.get('x-origin')).toBe(servedBy);
    if (servedBy === null) {
      expect(await res.json()).toMatchObject({ error: { code: 'canary_unavailable' } });
      expect(edge.forwarded.map((f) => f.origin)).toEqual(['canary']);
    } else expect(lastLog(edge)).toMatchObject({ origin: 'primary', fellBack: true });
  });

  it('canary down: an OPTIONS with a body (not replayable) is answered 502 canary_unavailable', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'down' };
    const res = await edge.request('/v1/flows', { method: 'OPTIONS', headers: await canaryPrincipal(), body: 'x' });
    expect(res.status).toBe(502);
    expect(edge.forwarded.map((f) => f.origin)).toEqual(['canary']);
  });

  it.each([521, 522, 523, 525, 526, 530])('canary never reached (Cloudflare %i): GET served by the primary, POST 502', async (status) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'up', status };
    expect((await edge.request('/v1/flows', { headers: await canaryPrincipal() })).headers.get('x-origin')).toBe('primary');
    expect((await edge.request('/v1/flows', { method: 'POST', headers: await canaryPrincipal(), body: '{}' })).status).toBe(502);
  });

  it.each([520, 524])('canary answered %i (it may have processed the request): passed through', async (status) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'up', status };
    const res = await edge.request('/v1/flows', { method: 'POST', headers: await canaryPrincipal(), body: '{}' });
    expect([res.status, res.headers.get('x-origin')]).toEqual([status, 'canary']);
  });

  it('answers 502 origin_unavailable when the primary is down', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    edge.origins.primary = { kind: 'down' };
    const res = await edge.request('/v1/flows', { headers: await canaryPrincipal() });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'origin_unavailable' } });
  });

  it('answers 502 origin_unavailable when the canary is down and then the primary too (GET)', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'down' };
    edge.origins.primary = { kind: 'down' };
    const res = await edge.request('/v1/flows', { headers: await canaryPrincipal() });
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: 'origin_unavailable' } });
  });
});

describe('canary routing off (AP_CANARY_APP_URL empty): everything to the primary, no store asked', () => {
  it.each(Object.entries(RESOLUTION_PATHS))('%s → primary', async (_name, request) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' }, { canaryRouting: false });
    const res = await send(edge, request);
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(edge.lookups).toEqual([]);
    expect(edge.recorded).toEqual([]);
    expect(lastLog(edge)).toMatchObject({ decision: 'canary-off', source: request.first ?? request.source });
  });
});

describe('the judge\'s signals (per origin and platform, off the critical path)', () => {
  const total = (edge: FakeEdge): Record<'primary' | 'canary', [number, number]> => {
    const sum = { primary: [0, 0] as [number, number], canary: [0, 0] as [number, number] };
    for (const cell of edge.recorded) {
      for (const counts of cell.platforms.values()) sum[cell.side] = [sum[cell.side][0] + counts.n, sum[cell.side][1] + counts.bad];
    }
    return sum;
  };

  it.each([
    ['a canary response', { canary: true, source: 'explicit' }, { kind: 'up' }, { kind: 'up' }, { primary: [0, 0], canary: [1, 0] }],
    ['a canary 5xx', { canary: true, source: 'explicit' }, { kind: 'up', status: 503 }, { kind: 'up' }, { primary: [0, 0], canary: [1, 1] }],
    ['a primary 5xx', { canary: false, source: 'default' }, { kind: 'up' }, { kind: 'up', status: 500 }, { primary: [1, 1], canary: [0, 0] }],
    ['a canary that never answered, the primary serving', { canary: true, source: 'explicit' }, { kind: 'down' }, { kind: 'up' }, { primary: [1, 0], canary: [1, 1] }],
    ['both origins down', { canary: true, source: 'explicit' }, { kind: 'down' }, { kind: 'down' }, { primary: [1, 1], canary: [1, 1] }],
  ] as const)('counts %s', async (_name, membership, canary, primary, expected) => {
    const edge = await edgeWith(membership);
    edge.origins.canary = canary;
    edge.origins.primary = primary;
    await edge.request('/v1/flows', { headers: bearer(await principalJwt(P)) });
    expect(total(edge)).toEqual(expected);
    for (const cell of edge.recorded) expect([...cell.platforms.keys()]).toEqual([P]);
  });

  it('counts a 5xx the origin marks as the client\'s doing (x-canary-fault: client) as a request, not an error, and strips the mark', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    edge.origins.canary = { kind: 'up', status: 504, headers: { 'x-canary-fault': 'client' } };
    const res = await edge.request(`/v1/webhooks/${FLOW}/sync`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(504);
    expect(res.headers.has('x-canary-fault')).toBe(false);
    expect(total(edge)).toEqual({ primary: [0, 0], canary: [1, 0] });
  });

  it('records nothing for a request an override routed (a tester\'s choice, not the cohort\'s)', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    edge.origins.canary = { kind: 'up', status: 500 };
    await edge.request('/v1/flows', { headers: { ...bearer(await principalJwt(P)), 'x-canary-override': await overrideToken('canary', null) } });
    expect(edge.recorded).toEqual([]);
  });

  it('records a request that named no platform under :none, a platform id outside the rule under :other', async () => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    edge.flows.set('flow_odd', 'plat.with.dots'); // a platform id from the database that the rule would refuse
    await edge.request('/');
    await edge.request('/v1/webhooks/flow_odd', { method: 'POST', body: '{}' });
    expect(edge.recorded.flatMap((c) => [...c.platforms.keys()]).sort()).toEqual([':none', ':other']);
  });
});

describe('skew protection: a document load pins the build that served it; its static reads follow the pin', () => {
  const html = { accept: 'text/html,application/xhtml+xml' };

  it.each([
    ['the canary', { canary: true, source: 'explicit' } as FakeMembership, 'canary', /^c\.\d+\.plat_table_1\./],
    ['the primary', { canary: false, source: 'default' } as FakeMembership, 'primary', /^p\.\d+\.plat_table_1\./],
  ])('a document load served by %s sets the pin (signed, HttpOnly, Secure, Lax, the max age) and names the build', async (_name, membership, origin, pin) => {
    const edge = await edgeWith(membership);
    const res = await edge.request('/', { headers: { ...html, cookie: await canaryCookie(P) } });
    expect(res.headers.get('x-origin')).toBe(origin);
    expect(res.headers.get('x-canary-build')).toBe(origin); // the fake origins send no x-ap-version
    const set = res.headers.getSetCookie().find((c) => c.startsWith('ap_canary_build='));
    expect(set?.split(';')[0]?.slice('ap_canary_build='.length)).toMatch(pin);
    expect(set).toMatch(/Max-Age=3600; Path=\/; HttpOnly; Secure; SameSite=Lax/);
  });

  it.each([
    ['an asset', 'GET', '/assets/app-0.1.0.js'],
    ['an asset (HEAD)', 'HEAD', '/assets/app-0.1.0.js'],
    ['a lazily loaded chunk', 'GET', '/assets/chunk-0.1.0.js'],
  ])('%s goes to the pinned build within the max age, whatever the platform\'s membership now says', async (_name, method, path) => {
    const flippedIn = await edgeWith({ canary: true, source: 'explicit' });
    const toPrimary = await flippedIn.request(path, { method, headers: { cookie: `${await canaryCookie(P)}; ${await buildCookie('primary', { platformId: P })}` } });
    expect(toPrimary.headers.get('x-origin')).toBe('primary');
    expect(lastLog(flippedIn)).toMatchObject({ decision: 'skew-primary' });
    const flippedOut = await edgeWith({ canary: false, source: 'default' });
    const toCanary = await flippedOut.request(path, { method, headers: { cookie: await buildCookie('canary', { platformId: P }) } });
    expect(toCanary.headers.get('x-origin')).toBe('canary');
    expect(flippedOut.recorded.flatMap((c) => [...c.platforms.keys()])).toEqual([]); // not the cohort's choice: not a signal
  });

  it.each([
    ['paused (kill switch)', { canary: false, source: 'paused' } as FakeMembership],
    ['quarantined by the judge after the document load', { canary: false, source: 'explicit', explicit: 'out', pinCutoffMs: Date.now() } as FakeMembership],
    ['both stores down (fail open)', 'stores down' as const],
  ])('a pin to the canary ends at once when %s: the read follows membership and the pin is cleared', async (_name, membership) => {
    const edge = await edgeWith(membership);
    const res = await edge.request('/assets/app-0.2.0.js', { headers: { cookie: await buildCookie('canary', { platformId: P }) } });
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(res.headers.getSetCookie().some((c) => /^ap_canary_build=;/.test(c) && /Max-Age=0/.test(c))).toBe(true);
    expect(lastLog(edge).decision).toMatch(/^skew-cut-/);
  });

  it('a pin to the canary holds when an operator flips the platform out (only a quarantine, a pause or the max age end it)', async () => {
    const edge = await edgeWith({ canary: false, source: 'explicit', explicit: 'out', pinCutoffMs: Date.now() - 60_000 });
    const res = await edge.request('/assets/app-0.2.0.js', { headers: { cookie: await buildCookie('canary', { platformId: P, ageSeconds: 10 }) } });
    expect(res.headers.get('x-origin')).toBe('canary');
  });

  it.each([
    ['older than the max age', async () => buildCookie('canary', { platformId: P, ageSeconds: 3601 })],
    ['signed with another secret', async () => buildCookie('canary', { platformId: P, secret: 'another-secret-0123456789abcdef' })],
    ['tampered', async () => (await buildCookie('canary', { platformId: P })).replace('ap_canary_build=c.', 'ap_canary_build=p.')],
  ])('a pin %s is ignored: the read follows membership', async (_name, cookie) => {
    const edge = await edgeWith({ canary: false, source: 'default' });
    const res = await edge.request('/assets/app-0.2.0.js', { headers: { cookie: await cookie() } });
    expect(res.headers.get('x-origin')).toBe('primary');
    expect(lastLog(edge).decision).toBe('unresolved');
  });

  it.each([
    ['an API call', 'GET', '/v1/flows', async (): Promise<Record<string, string>> => bearer(await principalJwt(P))],
    ['a webhook', 'POST', `/v1/webhooks/${FLOW}`, async (): Promise<Record<string, string>> => ({})],
    ['Socket.IO', 'GET', '/socket.io/?EIO=4&transport=polling', async (): Promise<Record<string, string>> => ({ cookie: await canaryCookie(P) })],
    ['a document load (it pins anew)', 'GET', '/', async (): Promise<Record<string, string>> => ({ ...html, cookie: await canaryCookie(P) })],
  ])('%s ignores the pin and follows membership', async (_name, method, path, headers) => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    const given = await headers();
    const res = await edge.request(path, { method, headers: { ...given, cookie: `${given.cookie ?? ''}; ${await buildCookie('primary', { platformId: P })}` }, body: method === 'POST' ? '{}' : null });
    expect(res.headers.get('x-origin')).toBe('canary');
  });
});

describe('the log line', () => {
  it('names source, platform, decision, origin and timings, and never a token, key or cookie', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    const token = await principalJwt(P);
    const cookie = await canaryCookie(P);
    await edge.request('/v1/flows?token=secret-in-query', { headers: { ...bearer(token), cookie } });
    await edge.request('/v1/flows', { headers: bearer(KEY) });
    const [jwtLine, keyLine] = edge.logs;
    expect(jwtLine).toMatchObject({ msg: 'request', method: 'GET', path: '/v1/flows', status: 200, source: 'jwt', platformId: P, decision: 'canary', origin: 'canary', authority: 'cache' });
    expect(keyLine).toMatchObject({ source: 'api-key', platformId: P });
    for (const field of ['lookupMs', 'originMs', 'totalMs']) expect(typeof jwtLine?.[field]).toBe('number');
    const all = JSON.stringify(edge.logs);
    for (const secret of [token, KEY, cookie.split('=')[1] ?? 'x', 'secret-in-query']) expect(all).not.toContain(secret);
  });

  it('carries a hash of a webhook flow id, never the id itself', async () => {
    const edge = await edgeWith({ canary: true, source: 'explicit' });
    await send(edge, RESOLUTION_PATHS.webhook as RequestCase);
    expect(lastLog(edge).path).toMatch(/^\/v1\/webhooks\/~[0-9a-f]{12}$/);
    expect(JSON.stringify(edge.logs)).not.toContain(FLOW);
  });
});
