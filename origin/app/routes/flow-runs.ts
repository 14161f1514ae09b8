import { Hono } from 'hono';
import { z } from 'zod';
import { bearerToken, verifyPrincipalJwt } from '../../../core/auth/principal-jwt.js';
import type { FlowRun } from '../../runs/flow-run.js';
import { ApiError } from '../../../core/http/api-error.js';
import { toRunView } from './run-view.js';

export interface FlowRunRoutesDeps {
  jwtSecret: string;
  getRun(runId: string): Promise<FlowRun | null>;
}

const RunIdSchema = z.string().min(1).max(200);

/** `GET /v1/flow-runs/:id` for a principal of the run's platform; any other platform sees 404, not 403. */
export function flowRunRoutes(deps: FlowRunRoutesDeps): Hono {
  const routes = new Hono();
  routes.get('/:id', async (c) => {
    const token = bearerToken(c.req.header('authorization'));
    const principal = token === null ? null : await verifyPrincipalJwt(token, deps.jwtSecret, Math.floor(Date.now() / 1000));
    if (principal === null) throw new ApiError(401, 'unauthorized', 'A valid principal JWT is required.');
    const id = RunIdSchema.safeParse(c.req.param('id'));
    const run = id.success ? await deps.getRun(id.data) : null;
    // Same answer for "missing" and "someone else's", so run ids cannot be probed across platforms.
    if (run === null || run.platformId !== principal.platformId) {
      throw new ApiError(404, 'run_not_found', 'No such run.');
    }
    return c.json(toRunView(run));
  });
  return routes;
}
