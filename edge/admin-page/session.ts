import { fromBase64Url, toBase64Url, utf8 } from '../../core/crypto/encoding.js';
import { hmacKey } from '../../core/crypto/web-crypto.js';

export const SESSION_SECONDS = 8 * 3600;
export const PAGE_PATH = '/__canary';

// Domain separation: these MACs are keyed by the admin key (so rotating it ends every session) and can never be
// mistaken for a JWT, the canary cookie or an override token.
const SESSION_CONTEXT = 'ap_canary_admin.session.v1';
const CSRF_CONTEXT = 'ap_canary_admin.csrf.v1';

async function mac(apiKey: string, text: string): Promise<string> {
  return toBase64Url(await crypto.subtle.sign('HMAC', await hmacKey(apiKey), utf8(text)));
}

async function macValid(apiKey: string, text: string, given: string): Promise<boolean> {
  const bytes = fromBase64Url(given);
  if (bytes === null || bytes.length !== 32) return false;
  return crypto.subtle.verify('HMAC', await hmacKey(apiKey), bytes, utf8(text));
}

/** A signed session cookie value `<expires>.<nonce>.<mac>`, valid for 8 h; the nonce names its server-side row. */
export async function newSession(apiKey: string, nowSeconds: number): Promise<{ value: string; nonce: string; expires: number }> {
  const expires = nowSeconds + SESSION_SECONDS;
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  return { value: `${expires}.${nonce}.${await mac(apiKey, `${SESSION_CONTEXT}|${expires}|${nonce}`)}`, nonce, expires };
}

/** The session's nonce (what its CSRF token is bound to) when the cookie is valid and unexpired, else null. */
export async function verifySession(value: string | undefined, apiKey: string, nowSeconds: number): Promise<string | null> {
  const [expiresText, nonce, signature, extra] = (value ?? '').split('.');
  if (extra !== undefined || expiresText === undefined || nonce === undefined || signature === undefined) return null;
  if (!/^\d{1,12}$/.test(expiresText) || !/^[A-Za-z0-9_-]{22}$/.test(nonce)) return null;
  const expires = Number(expiresText);
  if (expires <= nowSeconds) return null;
  return (await macValid(apiKey, `${SESSION_CONTEXT}|${expires}|${nonce}`, signature)) ? nonce : null;
}

/** The CSRF token every state-changing form of a session carries. */
export function csrfToken(apiKey: string, sessionNonce: string): Promise<string> {
  return mac(apiKey, `${CSRF_CONTEXT}|${sessionNonce}`);
}

/** True when `given` is the session's CSRF token (compared as a MAC, in constant time). */
export function csrfValid(apiKey: string, sessionNonce: string, given: unknown): Promise<boolean> {
  return typeof given === 'string' ? macValid(apiKey, `${CSRF_CONTEXT}|${sessionNonce}`, given) : Promise.resolve(false);
}
