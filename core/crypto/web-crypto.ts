import { toHex, utf8 } from './encoding.js';

// Web Crypto's key type, named without the DOM lib (Node and workerd type it differently).
type HmacKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;

const hmacKeys = new Map<string, Promise<HmacKey>>();

/** An HMAC-SHA256 key for a secret, imported once per isolate (CryptoKeys carry no request-bound I/O). */
export function hmacKey(secret: string): Promise<HmacKey> {
  let key = hmacKeys.get(secret);
  if (key === undefined) {
    key = crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
    hmacKeys.set(secret, key);
  }
  return key;
}

/** Hex SHA-256 of a UTF-8 string. */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest('SHA-256', utf8(text)));
}

/**
 * Compares two secrets without leaking where they differ: both are hashed to fixed-length digests first, so neither
 * the length nor the content of the expected value shows in the timing.
 */
export async function constantTimeEqual(actual: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', utf8(actual)),
    crypto.subtle.digest('SHA-256', utf8(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}
