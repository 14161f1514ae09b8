import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The credential a worker presents to its app: HMAC-SHA256(AP_API_KEY, "ap-worker:" + AP_VERSION). Binding the
 * version into the token means a token proves both "knows the key" and "claims this build", checked separately so the
 * app can say which one failed.
 */
export function workerToken(apiKey: string, version: string): string {
  return createHmac('sha256', apiKey).update(`ap-worker:${version}`).digest('hex');
}

/** Why a worker credential was refused, or null when it is accepted. */
export type WorkerAuthFailure = { code: 'unauthorized' } | { code: 'version_mismatch'; appVersion: string; workerVersion: string };

/** Checks a worker's token (constant time) and that it runs the same AP_VERSION as this app. */
export function checkWorker(apiKey: string, appVersion: string, workerVersion: unknown, token: unknown): WorkerAuthFailure | null {
  if (typeof workerVersion !== 'string' || typeof token !== 'string') return { code: 'unauthorized' };
  const expected = Buffer.from(workerToken(apiKey, workerVersion));
  const given = Buffer.from(token);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { code: 'unauthorized' };
  if (workerVersion !== appVersion) return { code: 'version_mismatch', appVersion, workerVersion };
  return null;
}
