import { sign } from 'hono/jwt';
import { describe, expect, it } from 'vitest';
import { toBase64Url, utf8 } from '../../edge/lib/encoding.js';
import { platformIdFromJwt } from '../../edge/resolve/principal-jwt.js';
import { algNoneToken, principalToken } from '../support/jwt.js';

const SECRET = 'unit-test-jwt-secret-0123456789';
const now = () => Math.floor(Date.now() / 1000);

describe('platformIdFromJwt', () => {
  it.each(['USER', 'SERVICE', 'ENGINE'] as const)('returns platform.id for a valid %s token', async (type) => {
    const token = await principalToken({ platformId: 'plat-1', secret: SECRET, type });
    expect(await platformIdFromJwt(token, SECRET, now())).toBe('plat-1');
  });

  it('rejects a WORKER token', async () => {
    const token = await principalToken({ platformId: 'plat-1', secret: SECRET, type: 'WORKER' });
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects an expired token', async () => {
    const token = await principalToken({ platformId: 'plat-1', secret: SECRET, expiresInSeconds: -1 });
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects a token whose exp is not finite', async () => {
    const header = toBase64Url(utf8(JSON.stringify({ alg: 'HS256', typ: 'JWT' })));
    const payload = toBase64Url(utf8('{"type":"USER","platform":{"id":"p"},"exp":1e400}'));
    const key = await crypto.subtle.importKey('raw', utf8(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    const sig = toBase64Url(await crypto.subtle.sign('HMAC', key, utf8(`${header}.${payload}`)));
    expect(await platformIdFromJwt(`${header}.${payload}.${sig}`, SECRET, now())).toBeNull();
  });

  it('rejects a token without exp', async () => {
    const token = await sign({ type: 'USER', platform: { id: 'plat-1' } }, SECRET, 'HS256');
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects a token whose nbf is in the future', async () => {
    const token = await sign({ type: 'USER', platform: { id: 'p' }, exp: now() + 60, nbf: now() + 30 }, SECRET, 'HS256');
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects a token signed with another secret', async () => {
    const token = await principalToken({ platformId: 'plat-1', secret: 'another-secret-0123456789abc' });
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects alg:none', async () => {
    expect(await platformIdFromJwt(algNoneToken('plat-1'), SECRET, now())).toBeNull();
  });

  it('rejects HS512 even with the right secret', async () => {
    const token = await sign({ type: 'USER', platform: { id: 'p' }, exp: now() + 60 }, SECRET, 'HS512');
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects a tampered payload', async () => {
    const token = await principalToken({ platformId: 'plat-1', secret: SECRET });
    const [h, , s] = token.split('.');
    const forged = toBase64Url(utf8(JSON.stringify({ type: 'USER', platform: { id: 'other' }, exp: now() + 60 })));
    expect(await platformIdFromJwt(`${h}.${forged}.${s}`, SECRET, now())).toBeNull();
  });

  it.each(['', 'a.b', 'a.b.c.d', 'not-a-jwt', '..'])('rejects malformed token %j', async (token) => {
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });

  it('rejects a token without platform.id', async () => {
    const token = await sign({ type: 'USER', exp: now() + 60 }, SECRET, 'HS256');
    expect(await platformIdFromJwt(token, SECRET, now())).toBeNull();
  });
});
