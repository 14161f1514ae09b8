import { Hono } from 'hono';
import { OperatorCommands } from '../../../core/operator/operator-commands.js';
import type { AppEnv } from '../../types.js';
import { adminBodyLimit, methodNotAllowed, readJson, requireApiKey, valueOf } from './admin-support.js';

const PATH = '/v1/admin/platforms/canary';
const SET_CHOICE = '{"platformId": string, "canary": boolean, "reason"?: string}';
const REASON_ONLY = '{"reason"?: string} or no body';

/** The body as an object, with the path's platform id added (a body that is not an object is left for the schema). */
function withPlatform(body: unknown, platformId: string): unknown {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, platformId } : body;
}

/**
 * `/v1/admin/platforms/canary`: pin a platform in or out (an explicit choice), list the choices and the rollout;
 * `/v1/admin/platforms/canary/:platformId`: where one platform goes and why, and clearing its choice.
 */
export function platformRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('/', requireApiKey());
  app.use('/:platformId', requireApiKey());

  app.post('/', adminBodyLimit(), async (c) => {
    const body = await readJson(c, SET_CHOICE);
    const value = valueOf(await c.get('services').operator.setChoice(body, c.get('actor')), { expected: SET_CHOICE });
    Object.assign(c.get('log'), { platformId: value.platformId, decision: value.canary ? 'pin' : 'exclude' });
    return c.json({ platformId: value.platformId, canary: value.canary });
  });

  app.get('/', async (c) => {
    const { pinned, excluded, rollout } = valueOf(await c.get('services').operator.overview());
    return c.json({ platformIds: pinned, excluded, rollout: { percent: OperatorCommands.percentOf(rollout), salt: rollout.salt }, paused: rollout.paused });
  });

  app.all('/', () => methodNotAllowed('GET or POST', PATH));

  app.get('/:platformId', async (c) => {
    return c.json(valueOf(await c.get('services').operator.status(c.req.param('platformId')), { invalidCode: 'invalid_platform_id' }));
  });

  app.delete('/:platformId', adminBodyLimit(), async (c) => {
    const platformId = c.req.param('platformId');
    const body = await readJson(c, REASON_ONLY, true);
    const outcome = await c.get('services').operator.follow(withPlatform(body, platformId), c.get('actor'));
    const value = valueOf(outcome, outcome.kind === 'invalid' && !outcome.message.startsWith('platformId') ? { expected: REASON_ONLY } : { invalidCode: 'invalid_platform_id' });
    Object.assign(c.get('log'), { platformId, decision: 'follow' });
    return c.json({ platformId, canary: value.canary });
  });

  app.all('/:platformId', () => methodNotAllowed('GET or DELETE', `${PATH}/:platformId`));
  return app;
}
