import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** How long a worker token is valid; a worker mints a fresh one for every connection attempt and every result. */
export const WORKER_TOKEN_TTL_SECONDS = 300;
/** Clock skew tolerated between a worker and its app. */
const CLOCK_SKEW_SECONDS = 30;
const PREFIX = 'apw1';

function b64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function unb64url(text: string): string | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return null;
  return Buffer.from(text, 'base64url').toString('utf8');
}

function mac(secret: string, version: string, workerId: string, expires: number): Buffer {
  // Domain-separated from every other use of any secret: this MAC input can never be a JWT or a cookie's.
  return createHmac('sha256', secret).update(`ap-worker-token.v1|${version}|${workerId}|${expires}`).digest();
}

/**
 * A short-lived worker credential: `apw1.<version>.<workerId>.<expires>.<hmac>`, HMAC-SHA256 keyed with
 * AP_WORKER_SECRET (never the admin key). It names the worker's build so the app can refuse a mismatched one.
 */
export function mintWorkerToken(secret: string, claims: { version: string; workerId: string }, nowSeconds: number): string {
  const expires = nowSeconds + WORKER_TOKEN_TTL_SECONDS;
  const signature = mac(secret, claims.version, claims.workerId, expires).toString('base64url');
  return [PREFIX, b64url(claims.version), b64url(claims.workerId), String(expires), signature].join('.');
}

/** Why a worker credential was refused, or the worker it names. */
export type WorkerTokenCheck =
  | { ok: true; version: string; workerId: string }
  | { ok: false; code: 'unauthorized'; reason: 'malformed' | 'signature' | 'expired' }
  | { ok: false; code: 'version_mismatch'; appVersion: string; workerVersion: string };

/** Verifies a worker token (constant time), its expiry, and that the worker runs this app's AP_VERSION. */
export function checkWorkerToken(secret: string, appVersion: string, token: unknown, nowSeconds: number): WorkerTokenCheck {
  const parts = typeof token === 'string' ? token.split('.') : [];
  const [prefix, versionPart, workerPart, expiresText, signature] = parts;
  const version = versionPart === undefined ? null : unb64url(versionPart);
  const workerId = workerPart === undefined ? null : unb64url(workerPart);
  if (parts.length !== 5 || prefix !== PREFIX || version === null || workerId === null || signature === undefined || !/^\d{1,12}$/.test(expiresText ?? '')) {
    return { ok: false, code: 'unauthorized', reason: 'malformed' };
  }
  const expires = Number(expiresText);
  const expected = mac(secret, version, workerId, expires);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, code: 'unauthorized', reason: 'signature' };
  // A token minted for longer than the TTL is refused too: no credential of this kind outlives a few minutes.
  if (expires <= nowSeconds - CLOCK_SKEW_SECONDS || expires > nowSeconds + WORKER_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) {
    return { ok: false, code: 'unauthorized', reason: 'expired' };
  }
  if (version !== appVersion) return { ok: false, code: 'version_mismatch', appVersion, workerVersion: version };
  return { ok: true, version, workerId };
}

/** The stored form of a run claim: only its hash is kept, so a database read cannot forge a result. */
export function claimHash(claim: string): string {
  return createHash('sha256').update(`ap-run-claim.v1|${claim}`).digest('hex');
}
