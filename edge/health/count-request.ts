import type { OriginName } from '../proxy/forward-request.js';
import type { EdgeServices } from '../types.js';

/** Runs work past the response (`waitUntil`); undefined without an execution context (`app.request` in unit tests). */
export type Defer = (task: Promise<void>) => void;

/** What one request came to, for the judge. */
export interface RequestOutcome {
  /** The platform the request named (null: none). */
  platformId: string | null;
  /** The origin that answered, or null when none did. */
  served: OriginName | null;
  /** Origins that never answered it (a canary before its fallback, or both). */
  failed: readonly OriginName[];
  status: number;
  /** The origin marked its 5xx as the client's doing (x-canary-fault: client): a request, not an error. */
  clientFault: boolean;
  /** Time to response headers (or to the failure), in ms. */
  originMs: number;
}

/**
 * Records a request's outcome per origin and platform for the judge; the isolate's batch goes out later, at most once
 * a second, under `waitUntil`: counting never adds a round trip to a request.
 */
export function countRequest(services: EdgeServices, defer: Defer | undefined, outcome: RequestOutcome): void {
  const { healthCounter, health, reportStoreError } = services;
  if (health === null || defer === undefined) return;
  const now = Date.now();
  for (const origin of outcome.failed) healthCounter.record(origin, outcome.platformId, true, outcome.originMs, now);
  if (outcome.served !== null) healthCounter.record(outcome.served, outcome.platformId, outcome.status >= 500 && !outcome.clientFault, outcome.originMs, now);
  const delayMs = healthCounter.schedule(now);
  if (delayMs === null) return;
  const flush = async (): Promise<void> => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await health.record(healthCounter.take(Date.now()));
  };
  defer(flush().catch((error: unknown) => reportStoreError('health-record', error)));
}
