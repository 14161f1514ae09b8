import { WORKER_VERSION_HEADER } from '../app/routes/worker-results.js';
import type { EngineResult } from '../engine/run-engine.js';

/** Posts engine results to the app over HTTP, authenticated with the worker token. */
export type ResultPoster = (runId: string, result: EngineResult, queue: string) => Promise<void>;

export interface ResultPosterOptions {
  frontendUrl: string;
  version: string;
  token: string;
  timeoutMs?: number;
}

/** A poster that throws on anything but 2xx, so the job is retried (the app dedupes by run id). */
export function createResultPoster(options: ResultPosterOptions): ResultPoster {
  const base = options.frontendUrl.replace(/\/+$/, '');
  return async (runId, result, queue) => {
    const body = {
      status: result.status,
      result: result.output,
      error: result.status === 'FAILED' ? result.error : null,
      queue,
    };
    const response = await fetch(`${base}/v1/worker/runs/${encodeURIComponent(runId)}/result`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${options.token}`,
        [WORKER_VERSION_HEADER]: options.version,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok) throw new Error(`posting result of run ${runId} failed: HTTP ${response.status} ${await response.text()}`);
  };
}
