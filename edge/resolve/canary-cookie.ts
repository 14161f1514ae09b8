import { generateCookie } from 'hono/cookie';
import { parse } from 'hono/utils/cookie';
import { BoundedCache } from '../../core/cache/bounded-cache.js';
import { hmacKey } from '../../core/crypto/web-crypto.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../core/crypto/encoding.js';
import { isPlatformId } from '../../core/platform-id.js';
import { CANARY_COOKIE } from '../edge-cookies.js';

export const CANARY_COOKIE_MAX_AGE_SECONDS = 86_400;
// Domain separation: the cookie shares AP_JWT_SECRET with principal JWTs, so its MAC input can never parse as one.
const MAC_CONTEXT = 'ap_canary.v1';

async function mac(secret: string, platformId: string, expires: number): Promise<string> {
  const sig = await crypto.subtle.sign('HMAC', await hmacKey(secret), utf8(`${MAC_CONTEXT}|${platformId}|${expires}`));
  return toBase64Url(sig);
}

/**
 * Cookie value `<platformId>.<expiresEpochSeconds>.<hmac>`: the platform is kept so a flip back takes effect at once.
 * Null for a platform id the cookie cannot carry safely.
 */
export async function signCanaryCookie(
  platformId: string,
  secret: string,
  nowSeconds: number,
  validSeconds = CANARY_COOKIE_MAX_AGE_SECONDS,
): Promise<string | null> {
  if (!isPlatformId(platformId)) return null;
  const expires = nowSeconds + validSeconds;
  return `${platformId}.${expires}.${await mac(secret, platformId, expires)}`;
}

/** The platform id of a valid, unexpired cookie value, else null. */
export async function verifyCanaryCookie(value: string, secret: string, nowSeconds: number): Promise<string | null> {
  const parts = value.split('.');
  if (parts.length !== 3 || secret === '') return null;
  const [platformId, expiresText, signature] = parts as [string, string, string];
  if (!isPlatformId(platformId) || !/^\d{1,12}$/.test(expiresText)) return null;
  const expires = Number(expiresText);
  if (expires <= nowSeconds) return null;
  const given = fromBase64Url(signature);
  if (given === null || given.length !== 32) return null;
  return (await crypto.subtle.verify('HMAC', await hmacKey(secret), given, utf8(`${MAC_CONTEXT}|${platformId}|${expires}`)))
    ? platformId
    : null;
}

const COOKIE_OPTIONS = { path: '/', secure: true, httpOnly: true, sameSite: 'Lax' } as const;

/** `Set-Cookie` value installing the canary cookie (the contract's attributes: Max-Age=86400, Path=/, Secure, Lax). */
export function canaryCookieHeader(value: string): string {
  return generateCookie(CANARY_COOKIE, value, { ...COOKIE_OPTIONS, maxAge: CANARY_COOKIE_MAX_AGE_SECONDS });
}

/** How long a signed cookie value is handed out again before a fresh one is signed. */
const COOKIE_REUSE_SECONDS = 60;

/**
 * `Set-Cookie` headers for canary platforms under one secret: a platform's signed value is reused for a minute, so a
 * busy principal costs one HMAC per minute instead of one per request. The value's own expiry is signed a minute
 * past the Max-Age it is first sent with, so every copy handed out in that minute (always Max-Age=86400, the
 * contract) expires in the browser before the edge would stop accepting it.
 */
export function cachedCanaryCookieSigner(secret: string, maxEntries = 5_000): (platformId: string, nowSeconds: number) => Promise<string | null> {
  const signed = new BoundedCache<{ header: string; signedAt: number }>(maxEntries);
  return async (platformId, nowSeconds) => {
    const known = signed.get(platformId);
    if (known !== undefined && nowSeconds - known.signedAt < COOKIE_REUSE_SECONDS) return known.header;
    const value = await signCanaryCookie(platformId, secret, nowSeconds, CANARY_COOKIE_MAX_AGE_SECONDS + COOKIE_REUSE_SECONDS);
    if (value === null) return null;
    const header = canaryCookieHeader(value);
    signed.set(platformId, { header, signedAt: nowSeconds });
    return header;
  };
}

/** `Set-Cookie` value clearing the canary cookie. */
export function clearCanaryCookieHeader(): string {
  return generateCookie(CANARY_COOKIE, '', { ...COOKIE_OPTIONS, maxAge: 0 });
}

/** The raw `ap_canary` value from a Cookie header, if any. */
export function readCanaryCookie(cookieHeader: string | null): string | null {
  if (cookieHeader === null) return null;
  return parse(cookieHeader, CANARY_COOKIE)[CANARY_COOKIE] ?? null;
}
