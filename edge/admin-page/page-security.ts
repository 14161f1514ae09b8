import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../types.js';

// No script may run and no style may be inlined: the pages are plain forms plus one stylesheet served from here.
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * Headers every page of the edge carries: strict CSP, no framing, no sniffing, no caching, and a referrer only for the
 * page's own origin (`same-origin`: nothing of a page URL, an override token included, leaves for another site; and
 * unlike `no-referrer` the browser then sends a real `Origin` with the page's own form posts, so `Origin: null` can
 * be refused).
 */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.get('log').origin = 'edge';
    c.get('log').decision = 'admin-page';
    await next();
    c.res.headers.set('content-security-policy', CONTENT_SECURITY_POLICY);
    c.res.headers.set('x-frame-options', 'DENY');
    c.res.headers.set('referrer-policy', 'same-origin');
    c.res.headers.set('x-content-type-options', 'nosniff');
    c.res.headers.set('cache-control', 'no-store');
  };
}

/**
 * A form posted from another site is refused before its CSRF token is looked at: a POST whose `Origin` is another
 * origin, or `null` (sandboxed frames, data: and file: documents, some cross-origin redirects: never this page).
 */
export function sameOriginPosts(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (c.req.method === 'POST' && origin !== undefined && origin !== c.get('url').origin) {
      return c.text('Cross-site form posts are refused.', 403);
    }
    await next();
  };
}
