import { Hono } from 'hono';
import { z } from 'zod';
import { bearerToken } from '../../../core/auth/principal-jwt.js';
import { checkWorker } from '../../auth/worker-token.js';
import type { Logger } from '../../logger.js';
import type { RunFinished } from '../../queues/runs-metadata.js';
import { ApiError } from '../../../core/http/api-error.js';

/** Header a worker sends its AP_VERSION in. */
export const WORKER_VERSION_HEADER = 'x-ap-worker-version';

export interface WorkerResultRoutesDeps {
  apiKey: string;
  version: string;
  runFinished(update: RunFinished): Promise<void>;
  logger: Logger;
}

const ResultSchema = z.object({
  status: z.enum(['SUCCEEDED', 'FAILED']),
  result: z.unknown(),
  error: z.string().nullable().default(null),
  queue: z.string().min(1),
});

/** `POST /v1/worker/runs/:runId/result`: a worker of this app's version reports an engine result. */
export function workerResultRoutes(deps: WorkerResultRoutesDeps): Hono {
  const routes = new Hono();
  routes.post('/runs/:runId/result', async (c) => {
    const workerVersion = c.req.header(WORKER_VERSION_HEADER);
    const failure = checkWorker(deps.apiKey, deps.version, workerVersion, bearerToken(c.req.header('authorization')));
    if (failure?.code === 'unauthorized') throw new ApiError(401, 'unauthorized', 'Invalid worker credentials.');
    if (failure?.code === 'version_mismatch') {
      deps.logger.error('refused worker result: version mismatch', { appVersion: failure.appVersion, workerVersion: failure.workerVersion });
      throw new ApiError(409, 'version_mismatch', `This app runs ${failure.appVersion}; worker runs ${failure.workerVersion}.`);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
    }
    const parsed = ResultSchema.safeParse(body);
    if (!parsed.success) throw new ApiError(400, 'invalid_result', parsed.error.issues[0]?.message ?? 'invalid result');
    await deps.runFinished({ runId: c.req.param('runId'), workerVersion: workerVersion ?? '', ...parsed.data });
    return c.json({ accepted: true }, 202);
  });
  return routes;
}
