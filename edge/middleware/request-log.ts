import type { MiddlewareHandler } from 'hono';

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
  lookupMs?: number;
  originMs?: number;
  error?: string;
}

export interface RequestLogOptions {
  /** Where lines go; console.log by default (Workers Logs / `wrangler tail` pick it up). */
  sink?: (line: string) => void;
  now?: () => number;
}

/** One structured JSON line per request: method, path (no query), status, routing decision and timings. */
export function requestLog(options: RequestLogOptions = {}): MiddlewareHandler<{ Variables: { log: RequestLogFields } }> {
  const sink = options.sink ?? ((line: string) => console.log(line));
  const now = options.now ?? Date.now;
  return async (c, next) => {
    const started = now();
    c.set('log', {});
    await next();
    const url = new URL(c.req.url);
    sink(
      JSON.stringify({
        msg: 'request',
        method: c.req.method,
        path: url.pathname,
        status: c.res.status,
        ...c.get('log'),
        totalMs: now() - started,
      }),
    );
  };
}
