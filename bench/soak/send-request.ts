import http from 'node:http';
import type { SoakRequest } from './traffic.js';

/** What came back for one request; `status === null` means no answer at all (a lost request). */
export interface Outcome {
  request: SoakRequest;
  sentAt: number;
  receivedAt: number;
  status: number | null;
  /** `x-origin` of the answer: which origin served it. */
  origin: string | null;
  /** `error.code` of a JSON error envelope. */
  errorCode: string | null;
  /** Why there was no answer. */
  failure: string | null;
}

const TIMEOUT_MS = 10_000;

function errorCodeOf(body: string): string | null {
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown } };
    return typeof parsed.error?.code === 'string' ? parsed.error.code : null;
  } catch {
    return null;
  }
}

/** Sends one request over a keep-alive agent and resolves with its outcome (never rejects). */
export function sendRequest(base: string, agent: http.Agent, request: SoakRequest): Promise<Outcome> {
  const sentAt = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const settle = (partial: Omit<Outcome, 'request' | 'sentAt' | 'receivedAt'>): void => {
      if (settled) return;
      settled = true;
      resolve({ request, sentAt, receivedAt: performance.now(), ...partial });
    };
    const req = http.request(`${base}${request.path}`, { method: request.method, headers: request.headers, agent, timeout: TIMEOUT_MS }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', (error) => settle({ status: null, origin: null, errorCode: null, failure: `response aborted: ${error.message}` }));
      res.once('end', () => {
        const status = res.statusCode ?? 0;
        const origin = typeof res.headers['x-origin'] === 'string' ? res.headers['x-origin'] : null;
        const errorCode = status >= 400 ? errorCodeOf(Buffer.concat(chunks).toString('utf8')) : null;
        settle({ status, origin, errorCode, failure: null });
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.once('error', (error: NodeJS.ErrnoException) => settle({ status: null, origin: null, errorCode: null, failure: error.code ?? error.message }));
    req.end(request.body ?? undefined);
  });
}
