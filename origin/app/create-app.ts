import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { Logger } from '../logger.js';
import type { RunFinished } from '../queues/runs-metadata.js';
import type { FlowRecord, FlowRun } from '../runs/flow-run.js';
import { ApiError, errorResponse } from '../../core/http/api-error.js';
import type { FlowDefinition } from '../engine/flow-definition.js';
import { buildPageRoutes } from './routes/build-page.js';
import { flowRunRoutes } from './routes/flow-runs.js';
import { flowRoutes } from './routes/flows.js';
import { webhookRoutes } from './routes/webhooks.js';
import { workerResultRoutes } from './routes/worker-results.js';
import type { RunWaiter } from './run-waiter.js';

/** Everything the app's routes need, passed explicitly (no globals). */
export interface AppDeps {
  version: string;
  jwtSecret: string;
  workerSecret: string;
  claimHolds(runId: string, claimHash: string): Promise<boolean>;
  webhookMaxBodyBytes: number;
  webhookSyncTimeoutMs: number;
  findFlow(flowId: string): Promise<FlowRecord | null>;
  getRun(runId: string): Promise<FlowRun | null>;
  saveDefinition(flowId: string, platformId: string, definition: FlowDefinition | null): Promise<boolean>;
  dispatch(runId: string, flow: FlowRecord, payload: unknown): Promise<string>;
  runFinished(update: RunFinished): Promise<void>;
  waiter: RunWaiter;
  newRunId(): string;
  logger: Logger;
}

/** The origin app's HTTP surface; every response, errors included, carries `x-ap-version`. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    await next();
    c.res.headers.set('x-ap-version', deps.version);
  });

  app.get('/v1/health', (c) => c.json({ status: 'ok', version: deps.version }));
  app.route('/', buildPageRoutes(deps.version));
  app.route(
    '/v1/webhooks',
    webhookRoutes({
      findFlow: deps.findFlow,
      getRun: deps.getRun,
      dispatch: deps.dispatch,
      waiter: deps.waiter,
      maxBodyBytes: deps.webhookMaxBodyBytes,
      syncTimeoutMs: deps.webhookSyncTimeoutMs,
      newRunId: deps.newRunId,
      logger: deps.logger,
    }),
  );
  app.route('/v1/flow-runs', flowRunRoutes({ jwtSecret: deps.jwtSecret, getRun: deps.getRun }));
  app.route('/v1/flows', flowRoutes({ jwtSecret: deps.jwtSecret, saveDefinition: deps.saveDefinition }));
  app.route(
    '/v1/worker',
    workerResultRoutes({
      workerSecret: deps.workerSecret,
      version: deps.version,
      claimHolds: deps.claimHolds,
      runFinished: deps.runFinished,
      logger: deps.logger,
    }),
  );

  app.onError((error, c) => {
    if (error instanceof ApiError) return errorResponse(c, error.status, error.code, error.message, error.headers);
    if (error instanceof HTTPException) return errorResponse(c, error.status, 'http_error', error.message);
    deps.logger.error('unhandled error', { method: c.req.method, path: c.req.path, error });
    return errorResponse(c, 500, 'internal_error', 'Unexpected origin error.');
  });
  app.notFound((c) => errorResponse(c, 404, 'not_found', 'Not found.'));

  return app;
}
