import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod/mini';
import { constantTimeEqual } from '../../core/crypto/web-crypto.js';
import { ApiError } from '../../core/http/api-error.js';
import { StoreError } from '../../core/membership/index.js';
import type { AppEnv } from '../types.js';

/** Admin request bodies are tiny; anything larger is refused before it is read. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024;

const setCanaryBody = z.strictObject({
  platformId: z.string().check(z.minLength(1), z.maxLength(128)),
  canary: z.boolean(),
});

/** `POST` and `GET /v1/admin/platforms/canary`: flip a platform in or out of the canary cohort, list the cohort. */
export function adminCanaryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  // Exactly the admin path: deeper paths are ordinary requests and are proxied like any other.
  app.use('/', async (c, next) => {
    c.get('log').origin = 'edge';
    const given = c.req.header('api-key');
    if (given === undefined || given === '') throw new ApiError(401, 'unauthorized', 'Missing api-key header.');
    if (!(await constantTimeEqual(given, c.get('services').config.apiKey))) {
      throw new ApiError(401, 'unauthorized', 'Invalid api-key.');
    }
    await next();
  });

  app.post(
    '/',
    bodyLimit({
      maxSize: ADMIN_BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `Request body exceeds ${ADMIN_BODY_LIMIT_BYTES} bytes.`);
      },
    }),
    async (c) => {
      let json: unknown;
      try {
        json = await c.req.json();
      } catch {
        throw new ApiError(400, 'invalid_json', 'Request body must be JSON: {"platformId": string, "canary": boolean}.');
      }
      const parsed = setCanaryBody.safeParse(json);
      if (!parsed.success) {
        const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
        throw new ApiError(400, 'invalid_body', `Expected {"platformId": string, "canary": boolean}. ${detail}`);
      }
      const { platformId, canary } = parsed.data;
      const { membership, reportStoreError } = c.get('services');
      let result;
      try {
        result = await membership.setCanary(platformId, canary);
      } catch (error) {
        // Only an unavailable store is a 503; anything else is a bug and surfaces as 500 through onError.
        if (!(error instanceof StoreError)) throw error;
        reportStoreError('admin-set-canary', error);
        // The cache is deliberately left alone: invalidating it while Postgres is down would send every canary
        // platform to the primary until Postgres is back.
        throw new ApiError(
          503,
          'store_unavailable',
          'The database is unavailable or did not answer in time; the change was not applied. Retry the same request.',
        );
      }
      Object.assign(c.get('log'), { platformId, decision: canary ? 'flip-in' : 'flip-out' });
      if (!result.found) throw new ApiError(404, 'platform_not_found', `Platform ${platformId} does not exist.`);
      if (!result.invalidated) {
        throw new ApiError(
          503,
          'cache_invalidation_failed',
          `The database now has canary=${canary} for ${platformId}, but the routing cache could not be invalidated, so ` +
            'edges may keep the old routing until the cache expires. Retry the same request.',
        );
      }
      return c.json({ platformId, canary });
    },
  );

  app.get('/', async (c) => {
    const { membership, reportStoreError } = c.get('services');
    try {
      return c.json({ platformIds: await membership.listCanary() });
    } catch (error) {
      if (!(error instanceof StoreError)) throw error;
      reportStoreError('admin-list-canary', error);
      throw new ApiError(503, 'store_unavailable', 'The database is unavailable. Retry later.');
    }
  });

  app.all('/', () => {
    throw new ApiError(405, 'method_not_allowed', 'Use GET or POST on /v1/admin/platforms/canary.');
  });

  return app;
}
