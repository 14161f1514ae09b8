import type { OriginName } from '../proxy/forward-request.js';
import type { EdgeServices } from '../types.js';

/** Runs work past the response (`waitUntil`); undefined without an execution context (`app.request` in unit tests). */
export type Defer = (task: Promise<void>) => void;

/**
 * Counts a request's outcome per origin for the health guard: `failed` are origins that never answered it, `served`
 * the one that did (an error when its status is a 5xx). The isolate's batch goes out later, at most once a second,
 * under `waitUntil`: counting never adds a round trip to a request.
 */
export function countRequest(services: EdgeServices, defer: Defer | undefined, outcome: { served: OriginName | null; failed: readonly OriginName[]; status: number }): void {
  const { healthCounter, health, reportStoreError } = services;
  if (health === null || defer === undefined) return;
  const now = Date.now();
  for (const origin of outcome.failed) healthCounter.record(origin, true, now);
  if (outcome.served !== null) healthCounter.record(outcome.served, outcome.status >= 500, now);
  const delayMs = healthCounter.schedule(now);
  if (delayMs === null) return;
  const flush = async (): Promise<void> => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await health.record(healthCounter.take(Date.now()));
  };
  defer(flush().catch((error: unknown) => reportStoreError('health-record', error)));
}
