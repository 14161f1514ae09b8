import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../core/http/api-error.js';
import { isPrivateOriginPath, routingPath } from '../proxy/routing-path.js';
import type { AppEnv } from '../types.js';

/**
 * Answers 404 itself, in the JSON envelope and without asking any origin, for the origins' worker control plane
 * (`/v1/worker/*`, `/worker-socket.io/*`): it is not part of the public API, so the edge never forwards it.
 */
export function refusePrivatePaths(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!isPrivateOriginPath(routingPath(new URL(c.req.url).pathname))) return next();
    c.get('log').origin = 'edge';
    c.get('log').decision = 'refused-private-path';
    return errorResponse(c, 404, 'not_found', 'Not found.');
  };
}
