import { generateCookie } from 'hono/cookie';
import { parse } from 'hono/utils/cookie';
import { hmacKey } from '../../core/crypto/web-crypto.js';
import { fromBase64Url, toBase64Url, utf8 } from '../../core/crypto/encoding.js';
import { isPlatformId } from '../../core/platform-id.js';
import { BUILD_COOKIE } from '../edge-cookies.js';

/** The two sides (forward-request.ts `OriginName`, declared here too so hosts outside workerd can sign pins). */
type OriginName = 'primary' | 'canary';

// Domain separation: keyed by AP_JWT_SECRET like `ap_canary`, under its own context, so neither value can pass for the other.
const MAC_CONTEXT = 'ap_canary_build.v1';

/** A document load's build pin: the side that served it, when, and the platform the request named (or none). */
export interface BuildPin {
  side: OriginName;
  issuedAtSeconds: number;
  platformId: string | null;
}

async function mac(secret: string, body: string): Promise<string> {
  return toBase64Url(await crypto.subtle.sign('HMAC', await hmacKey(secret), utf8(`${MAC_CONTEXT}|${body}`)));
}

/** Cookie value `<c|p>.<issuedAtEpochSeconds>.<platformId|->.<hmac>` (signed like `ap_canary`). */
export async function signBuildCookie(pin: BuildPin, secret: string): Promise<string | null> {
  if (pin.platformId !== null && !isPlatformId(pin.platformId)) return null;
  const body = `${pin.side === 'canary' ? 'c' : 'p'}.${pin.issuedAtSeconds}.${pin.platformId ?? '-'}`;
  return `${body}.${await mac(secret, body)}`;
}

/** The pin of a valid cookie value (any age: the caller applies the max age), else null. */
export async function verifyBuildCookie(value: string, secret: string): Promise<BuildPin | null> {
  const parts = value.split('.');
  if (parts.length !== 4 || secret === '') return null;
  const [side, issuedText, platform, signature] = parts as [string, string, string, string];
  if ((side !== 'c' && side !== 'p') || !/^\d{1,12}$/.test(issuedText) || (platform !== '-' && !isPlatformId(platform))) return null;
  const given = fromBase64Url(signature);
  if (given === null || given.length !== 32) return null;
  const body = `${side}.${issuedText}.${platform}`;
  if (!(await crypto.subtle.verify('HMAC', await hmacKey(secret), given, utf8(`${MAC_CONTEXT}|${body}`)))) return null;
  return { side: side === 'c' ? 'canary' : 'primary', issuedAtSeconds: Number(issuedText), platformId: platform === '-' ? null : platform };
}

/** The raw `ap_canary_build` value of a Cookie header, or null. */
export function readBuildCookie(cookieHeader: string | null): string | null {
  if (cookieHeader === null) return null;
  return parse(cookieHeader, BUILD_COOKIE)[BUILD_COOKIE] ?? null;
}

/** `Set-Cookie` installing the pin for `maxAgeSeconds` (Path=/, Secure, HttpOnly, Lax, like `ap_canary`). */
export function buildCookieHeader(value: string, maxAgeSeconds: number): string {
  return generateCookie(BUILD_COOKIE, value, { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: maxAgeSeconds });
}

/** `Set-Cookie` clearing the pin (a pause or a quarantine ended it). */
export function clearBuildCookieHeader(): string {
  return generateCookie(BUILD_COOKIE, '', { path: '/', secure: true, httpOnly: true, sameSite: 'Lax', maxAge: 0 });
}

/** The build pin a request presents, if valid and younger than `maxAgeSeconds` (0: skew protection off). */
export async function presentedBuildPin(cookieHeader: string | null, secret: string, nowSeconds: number, maxAgeSeconds: number): Promise<BuildPin | null> {
  const value = maxAgeSeconds > 0 ? readBuildCookie(cookieHeader) : null;
  if (value === null) return null;
  const pin = await verifyBuildCookie(value, secret);
  return pin !== null && nowSeconds - pin.issuedAtSeconds <= maxAgeSeconds ? pin : null;
}

/** Header naming the build that answered (the origin's `x-ap-version`, else its side). Contract name. */
export const BUILD_HEADER = 'x-canary-build';

/**
 * Tells the response which build answered it, and applies the decision's pin change: a document load pins the build
 * that served it for `maxAgeSeconds`; a cutoff clears the pin.
 */
export async function applyBuildPin(
  response: Response,
  servedBy: OriginName,
  change: { kind: 'set'; platformId: string | null } | { kind: 'clear' } | null,
  secret: string,
  nowSeconds: number,
  maxAgeSeconds: number,
): Promise<void> {
  response.headers.set(BUILD_HEADER, response.headers.get('x-ap-version') ?? servedBy);
  if (change === null || maxAgeSeconds <= 0) return;
  if (change.kind === 'clear') {
    response.headers.append('set-cookie', clearBuildCookieHeader());
    return;
  }
  const value = await signBuildCookie({ side: servedBy, issuedAtSeconds: nowSeconds, platformId: change.platformId }, secret);
  if (value !== null) response.headers.append('set-cookie', buildCookieHeader(value, maxAgeSeconds));
}
