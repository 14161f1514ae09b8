import { Hono } from 'hono';
import { z } from 'zod/mini';
import { ApiError } from '../../../core/http/api-error.js';
import { CanaryControl } from '../../../core/membership/index.js';
import type { AppEnv } from '../../types.js';
import { adminBodyLimit, methodNotAllowed, readBody, reasonField, requireApiKey, requireInvalidated, withStore } from './admin-support.js';

const PATH = '/v1/admin/platforms/canary';
const platformIdField = () => z.string().check(z.minLength(1), z.maxLength(128));

const setChoiceBody = z.strictObject({ platformId: platformIdField(), canary: z.boolean(), reason: reasonField() });
const followBody = z.strictObject({ reason: reasonField() });

/**
 * `/v1/admin/platforms/canary`: pin a platform in or out (an explicit choice), list the choices and the rollout;
 * `/v1/admin/platforms/canary/:platformId`: where one platform goes and why, and clearing its choice.
 */
export function platformRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('/', requireApiKey());
  app.use('/:platformId', requireApiKey());

  app.post('/', adminBodyLimit(), async (c) => {
    const { platformId, canary, reason } = await readBody(c, setChoiceBody, '{"platformId": string, "canary": boolean, "reason"?: string}');
    Object.assign(c.get('log'), { platformId, decision: canary ? 'pin' : 'exclude' });
    const applied = await withStore(c, 'admin-set-choice', () =>
      c.get('services').control.setChoice(platformId, canary, { actor: c.get('actor'), reason: reason ?? null }),
    );
    if (applied === null) throw new ApiError(404, 'platform_not_found', `Platform ${platformId} does not exist.`);
    requireInvalidated(applied.invalidated, `canary=${canary} for ${platformId}`);
    return c.json({ platformId, canary });
  });

  app.get('/', async (c) => {
    const { pinned, excluded, rollout } = await withStore(c, 'admin-list', () => c.get('services').control.overview());
    return c.json({
      platformIds: pinned,
      excluded,
      rollout: { percent: CanaryControl.percentOf(rollout), salt: rollout.salt },
      paused: rollout.paused,
    });
  });

  app.all('/', () => methodNotAllowed('GET or POST', PATH));

  app.get('/:platformId', async (c) => {
    const platformId = platformIdOf(c.req.param('platformId'));
    const status = await withStore(c, 'admin-status', () => c.get('services').control.status(platformId));
    if (status === null) throw new ApiError(404, 'platform_not_found', `Platform ${platformId} does not exist.`);
    return c.json(status);
  });

  app.delete('/:platformId', adminBodyLimit(), async (c) => {
    const platformId = platformIdOf(c.req.param('platformId'));
    const { reason } = await readBody(c, followBody, '{"reason"?: string} or no body', true);
    Object.assign(c.get('log'), { platformId, decision: 'follow' });
    const applied = await withStore(c, 'admin-clear-choice', () =>
      c.get('services').control.clearChoice(platformId, { actor: c.get('actor'), reason: reason ?? null }),
    );
    if (applied === null) throw new ApiError(404, 'platform_not_found', `Platform ${platformId} does not exist.`);
    requireInvalidated(applied.invalidated, `no explicit choice for ${platformId}`);
    return c.json({ platformId, canary: applied.value.canary });
  });

  app.all('/:platformId', () => methodNotAllowed('GET or DELETE', `${PATH}/:platformId`));
  return app;
}

function platformIdOf(raw: string): string {
  const parsed = platformIdField().safeParse(raw);
  if (!parsed.success) throw new ApiError(400, 'invalid_platform_id', 'The platform id must be 1 to 128 characters.');
  return parsed.data;
}
