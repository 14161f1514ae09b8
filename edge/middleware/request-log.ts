import type { MiddlewareHandler } from 'hono';
import { sha256Hex } from '../../core/crypto/web-crypto.js';
import { routingPath } from '../proxy/routing-path.js';
import { flowIdFromPath } from '../resolve/webhook-path.js';

/** Fields a handler may add to the request's log line. Never secrets: no tokens, keys, cookies or query strings. */
export interface RequestLogFields {
  source?: string;
  platformId?: string | null;
  decision?: string;
  origin?: 'primary' | 'canary' | 'edge';
  authority?: string;
  cache?: string;
  database?: string;
  fillWaits?: number;
  /** This request started the background reload of a cohort about to expire. */
  cacheRefresh?: boolean;
  fellBack?: boolean;
  /** A tester override: honoured, or why it was ignored (the token itself is never logged). */
  override?: string;
  lookupMs?: number;
  originMs?: number;
  error?: string;
}

export interface RequestLogOptions {
  /** Where lines go; console.log by default (Workers Logs / `wrangler tail` pick it up). */
  sink?: (line: string) => void;
  now?: () => number;
}

/**
 * The path as logged: a webhook's flow id is the only credential of an unauthenticated webhook, so it is replaced by
 * `~` and the first 12 hex digits of its SHA-256 (enough to correlate lines, useless to call the webhook).
 */
export async function loggablePath(pathname: string, path = routingPath(pathname)): Promise<string> {
  const flowId = flowIdFromPath(path);
  if (flowId === null) return pathname;
  return path.replace(`/${flowId}`, `/~${(await sha256Hex(flowId)).slice(0, 12)}`);
}

/** One structured JSON line per request: method, path (no query, no webhook secret), status, decision and timings. */
export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<{ Variables: { log: RequestLogFields; url: URL; routingPath: string } }> {
  const sink = options.sink ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const started = now();
    c.set('log', {});
    await next();
    // Parsed once by edgeContext; a request refused before it ran still gets its line.
    const url = c.get('url') ?? new URL(c.req.url);
    sink(
      JSON.stringify({
        msg: 'request',
        method: c.req.method,
        path: await loggablePath(url.pathname, c.get('routingPath') ?? routingPath(url.pathname)),
        status: c.res.status,
        ...c.get('log'),
        totalMs: now() - started,
      }),
    );
  };
}
