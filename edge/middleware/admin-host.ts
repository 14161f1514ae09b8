import type { MiddlewareHandler } from 'hono';
import { errorResponse } from '../../core/http/api-error.js';
import type { AppEnv } from '../types.js';

/**
 * With ADMIN_HOSTNAME set, the operator plane (`/__canary/`, `/v1/admin/canary/*`) answers only on that host: a 404
 * envelope on every other, so no script of a tenant app's origin (an untested canary build's included) can reach the
 * page or its session. The override pages (`/__canary/override`) stay on every host: a tester's browser cookie must
 * be set on the app's own host, and those pages hold no session and no admin power (the token is the credential).
 */
export function adminHostOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { adminHostname } = c.get('services').config;
    const path = c.get('routingPath');
    const operatorPlane =
      path === '/__canary' ||
      (path.startsWith('/__canary/') && path !== '/__canary/override' && !path.startsWith('/__canary/override/')) ||
      path === '/v1/admin/canary' ||
      path.startsWith('/v1/admin/canary/');
    if (adminHostname !== '' && operatorPlane && c.get('url').host.toLowerCase() !== adminHostname.toLowerCase()) {
      c.get('log').origin = 'edge';
      c.get('log').decision = 'refused-admin-host';
      return errorResponse(c, 404, 'not_found', 'Not found.');
    }
    await next();
  };
}
