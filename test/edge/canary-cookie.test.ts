import { describe, expect, it } from 'vitest';
import {
  cachedCanaryCookieSigner,
  canaryCookieHeader,
  clearCanaryCookieHeader,
  readCanaryCookie,
  signCanaryCookie,
  verifyCanaryCookie,
} from '../../edge/resolve/canary-cookie.js';

const SECRET = 'unit-test-cookie-secret-0123456789';
const NOW = 1_800_000_000;

async function sign(platformId: string, secret = SECRET, now = NOW): Promise<string> {
  const value = await signCanaryCookie(platformId, secret, now);
  if (value === null) throw new Error(`could not sign ${platformId}`);
  return value;
}

describe('ap_canary cookie', () => {
  it('verifies a cookie it signed and returns the platform id', async () => {
    const value = await sign('plat_A-1');
    expect(await verifyCanaryCookie(value, SECRET, NOW + 10)).toBe('plat_A-1');
  });

  it('rejects an expired cookie', async () => {
    const value = await sign('p');
    expect(await verifyCanaryCookie(value, SECRET, NOW + 86_400)).toBeNull();
  });

  it('rejects a cookie signed with another secret', async () => {
    const value = await sign('p', 'other-secret-0123456789abcdef');
    expect(await verifyCanaryCookie(value, SECRET, NOW)).toBeNull();
  });

  it('rejects a cookie whose platform id was swapped', async () => {
    const value = await sign('p1');
    expect(await verifyCanaryCookie(value.replace(/^p1/, 'p2'), SECRET, NOW)).toBeNull();
  });

  it('rejects a cookie whose expiry was extended', async () => {
    const [id, exp, sig] = (await sign('p')).split('.');
    expect(await verifyCanaryCookie(`${id}.${Number(exp) + 1000}.${sig}`, SECRET, NOW)).toBeNull();
  });

  it.each(['', 'x', 'a.b', 'a.b.c.d', 'p.notanumber.sig', 'p.99999999999.!!'])('rejects malformed value %j', async (v) => {
    expect(await verifyCanaryCookie(v, SECRET, NOW)).toBeNull();
  });

  it.each(['a\r\nSet-Cookie: x=1', 'a;Domain=evil', 'a.b', '', 'x'.repeat(129)])('refuses to carry platform id %j', async (id) => {
    expect(await signCanaryCookie(id, SECRET, NOW)).toBeNull();
  });

  it('reads the value from a Cookie header among others', () => {
    expect(readCanaryCookie('a=1; ap_canary=v.1.s; b=2')).toBe('v.1.s');
    expect(readCanaryCookie('a=1; xap_canary=zzz')).toBeNull();
    expect(readCanaryCookie(null)).toBeNull();
  });

  it('sets the attributes the contract requires and clears with Max-Age=0', () => {
    const set = canaryCookieHeader('v');
    for (const attr of ['ap_canary=v', 'Path=/', 'Max-Age=86400', 'Secure', 'HttpOnly', 'SameSite=Lax']) expect(set.split('; ')).toContain(attr);
    const cleared = clearCanaryCookieHeader();
    expect(cleared).toMatch(/^ap_canary=;/);
    for (const attr of ['Path=/', 'Max-Age=0', 'Secure', 'HttpOnly', 'SameSite=Lax']) expect(cleared.split('; ')).toContain(attr);
  });
});

describe('cachedCanaryCookieSigner', () => {
  const valueOf = (header: string | null): string => /^ap_canary=([^;]+)/.exec(header ?? '')?.[1] ?? '';
  const maxAgeOf = (header: string | null): number => Number(/Max-Age=(\d+)/.exec(header ?? '')?.[1]);

  it('hands out the same signed value for a minute, always with the contract\'s Max-Age=86400', async () => {
    const signer = cachedCanaryCookieSigner(SECRET);
    const first = await signer('plat-1', NOW);
    const later = await signer('plat-1', NOW + 59);
    expect(later).toBe(first);
    expect(maxAgeOf(later)).toBe(86_400);
    // The copy sent last expires in the browser (NOW + 59 + 86400) before the edge stops accepting it.
    expect(await verifyCanaryCookie(valueOf(later), SECRET, NOW + 59 + 86_400 - 1)).toBe('plat-1');
    expect(await verifyCanaryCookie(valueOf(later), SECRET, NOW + 86_400 + 60)).toBeNull();
  });

  it('signs a fresh value once the minute is over', async () => {
    const signer = cachedCanaryCookieSigner(SECRET);
    const first = await signer('plat-1', NOW);
    const next = await signer('plat-1', NOW + 60);
    expect(valueOf(next)).not.toBe(valueOf(first));
    expect(await verifyCanaryCookie(valueOf(next), SECRET, NOW + 60)).toBe('plat-1');
  });

  it('signs per platform and refuses ids a cookie cannot carry', async () => {
    const signer = cachedCanaryCookieSigner(SECRET);
    expect(valueOf(await signer('a', NOW))).not.toBe(valueOf(await signer('b', NOW)));
    expect(await signer('bad;id', NOW)).toBeNull();
  });
});
