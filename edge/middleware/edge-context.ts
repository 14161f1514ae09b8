import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../core/http/api-error.js';
import { isPrivateOriginPath, routingPath } from '../proxy/routing-path.js';
import type { AppEnv, ServicesFactory } from '../types.js';

/**
 * What every route needs, in one step: the request URL parsed once and its routing path, the isolate's services (the
 * real ones by default, injected ones in unit tests), and the refusal of the origins' worker control plane
 * (`/v1/worker/*`, `/worker-socket.io/*`), answered 404 here in the JSON envelope without asking any origin: it is not
 * part of the public API, so the edge never forwards it.
 */
export function edgeContext(services: ServicesFactory): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    const path = routingPath(url.pathname);
    c.set('url', url);
    c.set('routingPath', path);
    if (isPrivateOriginPath(path)) {
      c.get('log').origin = 'edge';
      c.get('log').decision = 'refused-private-path';
      return errorResponse(c, 404, 'not_found', 'Not found.');
    }
    c.set('services', services(c.env));
    await next();
  };
}
