import { Hono } from 'hono';
import { z } from 'zod';
import { bearerToken } from '../../../core/auth/principal-jwt.js';
import { ApiError } from '../../../core/http/api-error.js';
import { checkWorkerToken, claimHash } from '../../auth/worker-token.js';
import type { Logger } from '../../logger.js';
import type { RunFinished } from '../../queues/runs-metadata.js';

/** Header carrying the per-claim secret the app handed the worker when it claimed the run. */
export const RUN_CLAIM_HEADER = 'x-ap-run-claim';

export interface WorkerResultRoutesDeps {
  workerSecret: string;
  version: string;
  /** True while the run is unfinished and its current claim has this hash. */
  claimHolds(runId: string, claimHash: string): Promise<boolean>;
  runFinished(update: RunFinished): Promise<void>;
  logger: Logger;
}

const ResultSchema = z.object({
  status: z.enum(['SUCCEEDED', 'FAILED']),
  result: z.unknown(),
  error: z.string().nullable().default(null),
  queue: z.string().min(1),
});

const RunIdSchema = z.string().min(1).max(200);
const ClaimSchema = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * `POST /v1/worker/runs/:runId/result`: the worker that holds the run's current claim reports its engine result.
 * A forged result (no valid worker token, or not the current claim) and a replayed one (the run already finished, or
 * was claimed again since) are refused and logged.
 */
export function workerResultRoutes(deps: WorkerResultRoutesDeps): Hono {
  const routes = new Hono();
  routes.post('/runs/:runId/result', async (c) => {
    const runId = RunIdSchema.safeParse(c.req.param('runId'));
    if (!runId.success) throw new ApiError(400, 'invalid_run_id', 'The run id is malformed.');
    const check = checkWorkerToken(deps.workerSecret, deps.version, bearerToken(c.req.header('authorization')), Math.floor(Date.now() / 1000));
    if (!check.ok && check.code === 'version_mismatch') {
      deps.logger.error('refused worker result: version mismatch', { runId: runId.data, appVersion: check.appVersion, workerVersion: check.workerVersion });
      throw new ApiError(409, 'version_mismatch', `This app runs ${check.appVersion}; worker runs ${check.workerVersion}.`);
    }
    if (!check.ok) {
      deps.logger.warn('refused worker result: bad credentials', { runId: runId.data, reason: check.reason });
      throw new ApiError(401, 'unauthorized', 'Invalid worker credentials.');
    }
    const claim = ClaimSchema.safeParse(c.req.header(RUN_CLAIM_HEADER));
    const hash = claim.success ? claimHash(claim.data) : null;
    if (hash === null || !(await deps.claimHolds(runId.data, hash))) {
      deps.logger.warn('refused worker result: not the current claim of an unfinished run', { runId: runId.data, workerId: check.workerId });
      throw new ApiError(403, 'claim_mismatch', 'This worker does not hold the current claim of this run (forged, stale or replayed result).');
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new ApiError(400, 'invalid_json', 'The body is not valid JSON.');
    }
    const parsed = ResultSchema.safeParse(body);
    if (!parsed.success) throw new ApiError(400, 'invalid_result', parsed.error.issues[0]?.message ?? 'invalid result');
    await deps.runFinished({ runId: runId.data, workerVersion: check.version, claimHash: hash, ...parsed.data });
    return c.json({ accepted: true }, 202);
  });
  return routes;
}
