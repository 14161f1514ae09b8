import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { ConfigError } from './config.js';
import { ApiError, errorResponse } from '../core/http/api-error.js';
import { redactSecrets } from '../core/log/redact.js';
import { adminHostOnly } from './middleware/admin-host.js';
import { edgeContext } from './middleware/edge-context.js';
import { requestLog } from './middleware/request-log.js';
import type { RequestLogOptions } from './middleware/request-log.js';
import { adminPageRoutes } from './routes/admin-page-routes.js';
import { canaryRoutes } from './routes/admin/canary-routes.js';
import { platformRoutes } from './routes/admin/platform-routes.js';
import { proxyHandler } from './routes/proxy.js';
import { servicesFor } from './services.js';
import type { AppEnv, ServicesFactory } from './types.js';

export interface CreateAppOptions {
  log?: RequestLogOptions;
  /** Builds the services from the bindings: the real stores by default; tests inject in-memory ones. */
  services?: ServicesFactory;
}

/** The edge Worker: admin routes served here, every other request proxied to the primary or the canary origin. */
export function createApp(options: CreateAppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Three layers for every request: the log line around everything, the request's context (or a refusal), and the
  // operator plane's host rule (ADMIN_HOSTNAME).
  app.use('*', requestLog(options.log));
  app.use('*', edgeContext(options.services ?? servicesFor));
  app.use('*', adminHostOnly());

  app.route('/v1/admin/platforms/canary', platformRoutes());
  app.route('/v1/admin/canary', canaryRoutes());
  app.route('/', adminPageRoutes());
  app.all('*', proxyHandler);

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error.status, error.code, error.message, error.headers);
    if (error instanceof ConfigError) {
      console.error(JSON.stringify({ msg: 'edge misconfigured', error: error.message }));
      return errorResponse(c, 500, 'edge_misconfigured', `The edge is misconfigured: ${error.message}`);
    }
    if (error instanceof HTTPException) return errorResponse(c, error.status, 'http_error', error.message);
    console.error(JSON.stringify({ msg: 'unhandled error', error: redactSecrets(error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 500) }));
    return errorResponse(c, 500, 'internal_error', 'Unexpected edge error.');
  });
  app.notFound((c) => errorResponse(c, 404, 'not_found', 'Not found.'));

  return app;
}
