import { RUN_CLAIM_HEADER } from '../app/routes/worker-results.js';
import type { EngineResult } from '../engine/run-engine.js';

/** Posts an engine result to the app over HTTP with the run's claim. */
export type ResultPoster = (runId: string, claim: string, result: EngineResult, queue: string) => Promise<void>;

export interface ResultPosterOptions {
  frontendUrl: string;
  /** Mints a fresh short-lived worker token (one per post). */
  token: () => string;
  timeoutMs?: number;
}

/** A poster that throws on anything but 2xx, so the job is retried (the app dedupes by run id). */
export function createResultPoster(options: ResultPosterOptions): ResultPoster {
  const base = options.frontendUrl.replace(/\/+$/, '');
  return async (runId, claim, result, queue) => {
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
        authorization: `Bearer ${options.token()}`,
        [RUN_CLAIM_HEADER]: claim,
      },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
    });
    if (!response.ok) throw new Error(`posting result of run ${runId} failed: HTTP ${response.status} ${await response.text()}`);
  };
}
