import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { bearerToken, cachedPrincipalVerifier, verifyPrincipalJwt } from '../../core/auth/principal-jwt.js';
import { toBase64Url, utf8 } from '../../core/crypto/encoding.js';

const SECRET = 'unit-test-jwt-secret-0123456789';
const NOW = 1_800_000_000;

/** HS256 over any payload text (so claims JSON cannot express, like 1e400, can be tested). */
async function signRaw(payloadJson: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }, secret = SECRET): Promise<string> {
  const h = toBase64Url(utf8(JSON.stringify(header)));
  const p = toBase64Url(utf8(payloadJson));
  const key = await crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return `${h}.${p}.${toBase64Url(await crypto.subtle.sign('HMAC', key, utf8(`${h}.${p}`)))}`;
}

const valid = { id: 'user-1', type: 'USER', platform: { id: 'plat-1' }, exp: NOW + 60 };
const claims = (patch: Record<string, unknown>): string => JSON.stringify({ ...valid, ...patch });
const without = (name: keyof typeof valid): string => JSON.stringify(Object.fromEntries(Object.entries(valid).filter(([k]) => k !== name)));

// One table for every claim rule: the edge (routing) and the origin (authorisation) call this one function.
const cases: [rule: string, token: () => Promise<string>, platformId: string | null][] = [
  ['accepts a USER token', () => signRaw(claims({})), 'plat-1'],
  ['accepts a SERVICE token', () => signRaw(claims({ type: 'SERVICE' })), 'plat-1'],
  ['accepts an ENGINE token', () => signRaw(claims({ type: 'ENGINE' })), 'plat-1'],
  ['accepts a token without id', () => signRaw(without('id')), 'plat-1'],
  ['accepts nbf in the past', () => signRaw(claims({ nbf: NOW - 1 })), 'plat-1'],
  ['accepts nbf equal to now', () => signRaw(claims({ nbf: NOW })), 'plat-1'],
  // alg
  ['refuses alg none', () => Promise.resolve(`${toBase64Url(utf8('{"alg":"none"}'))}.${toBase64Url(utf8(claims({})))}.`), null],
  ['refuses HS512 even with the right secret', () => sign({ ...valid }, SECRET, 'HS512'), null],
  ['refuses a header without alg', () => signRaw(claims({}), { typ: 'JWT' }), null],
  // signature
  ['refuses another secret', () => signRaw(claims({}), undefined, 'another-secret-0123456789abc'), null],
  ['refuses a tampered payload', async () => {
    const [h, , s] = (await signRaw(claims({}))).split('.');
    return `${h}.${toBase64Url(utf8(claims({ platform: { id: 'other' } })))}.${s}`;
  }, null],
  ['refuses a truncated signature', async () => (await signRaw(claims({}))).slice(0, -4), null],
  // exp
  ['refuses a token without exp', () => signRaw(without('exp')), null],
  ['refuses exp equal to now', () => signRaw(claims({ exp: NOW })), null],
  ['refuses exp in the past', () => signRaw(claims({ exp: NOW - 1 })), null],
  ['refuses a non-finite exp', () => signRaw(claims({}).replace(`"exp":${NOW + 60}`, '"exp":1e400')), null],
  ['refuses exp as a string', () => signRaw(claims({ exp: String(NOW + 60) })), null],
  // nbf
  ['refuses nbf in the future', () => signRaw(claims({ nbf: NOW + 1 })), null],
  ['refuses nbf as a string', () => signRaw(claims({ nbf: String(NOW - 1) })), null],
  // type
  ['refuses a WORKER token', () => signRaw(claims({ type: 'WORKER' })), null],
  ['refuses a token without type', () => signRaw(without('type')), null],
  ['refuses a lower-case type', () => signRaw(claims({ type: 'user' })), null],
  // platform.id
  ['refuses a token without platform', () => signRaw(without('platform')), null],
  ['refuses an empty platform.id', () => signRaw(claims({ platform: { id: '' } })), null],
  ['refuses a numeric platform.id', () => signRaw(claims({ platform: { id: 7 } })), null],
  ['refuses platform as an array', () => signRaw(claims({ platform: ['plat-1'] })), null],
  // id
  ['refuses an empty id', () => signRaw(claims({ id: '' })), null],
  ['refuses a numeric id', () => signRaw(claims({ id: 1 })), null],
  // shape
  ['refuses a payload that is not an object', () => signRaw('"plat-1"'), null],
  ['refuses an empty string', () => Promise.resolve(''), null],
  ['refuses two parts', () => Promise.resolve('a.b'), null],
  ['refuses four parts', () => Promise.resolve('a.b.c.d'), null],
  ['refuses empty parts', () => Promise.resolve('..'), null],
];

describe('verifyPrincipalJwt', () => {
  it.each(cases)('%s', async (_rule, token, platformId) => {
    const principal = await verifyPrincipalJwt(await token(), SECRET, NOW);
    expect(principal?.platformId ?? null).toBe(platformId);
  });

  it('returns the principal with its exp, so connections can end when the token does', async () => {
    expect(await verifyPrincipalJwt(await signRaw(claims({})), SECRET, NOW)).toEqual({
      id: 'user-1',
      type: 'USER',
      platformId: 'plat-1',
      expiresAt: NOW + 60,
    });
  });

  it('refuses everything when the secret is empty', async () => {
    expect(await verifyPrincipalJwt(await signRaw(claims({})), '', NOW)).toBeNull();
  });
});

describe('cachedPrincipalVerifier', () => {
  // The same table: remembering valid tokens must never change a verdict.
  it.each(cases)('%s (twice, the second from the memo)', async (_rule, token, platformId) => {
    const verify = cachedPrincipalVerifier(SECRET);
    const t = await token();
    expect((await verify(t, NOW))?.platformId ?? null).toBe(platformId);
    expect((await verify(t, NOW))?.platformId ?? null).toBe(platformId);
  });

  it('refuses a remembered token from its exp on', async () => {
    const verify = cachedPrincipalVerifier(SECRET);
    const t = await signRaw(claims({}));
    expect(await verify(t, NOW)).not.toBeNull();
    expect(await verify(t, NOW + 59)).not.toBeNull();
    expect(await verify(t, NOW + 60)).toBeNull();
  });

  it('does not remember a token refused for a future nbf, so it is accepted once nbf has passed', async () => {
    const verify = cachedPrincipalVerifier(SECRET);
    const t = await signRaw(claims({ nbf: NOW + 5 }));
    expect(await verify(t, NOW)).toBeNull();
    expect((await verify(t, NOW + 5))?.platformId).toBe('plat-1');
  });

  it('keeps at most maxEntries tokens and still verifies the evicted ones', async () => {
    const verify = cachedPrincipalVerifier(SECRET, 2);
    const tokens = await Promise.all(['a', 'b', 'c'].map((p) => signRaw(claims({ platform: { id: p } }))));
    for (const t of tokens) await verify(t, NOW);
    for (const [i, t] of tokens.entries()) expect((await verify(t, NOW))?.platformId).toBe(['a', 'b', 'c'][i]);
  });
});

describe('bearerToken', () => {
  it.each([
    ['Bearer abc', 'abc'],
    ['bearer abc', 'abc'],
    ['Bearer   abc  ', 'abc'],
    ['Bearer', null],
    ['Basic abc', null],
    ['Bearer a b', null],
    [null, null],
    [undefined, null],
  ])('%j -> %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});
