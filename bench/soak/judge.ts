import type { DrillWindow, MembershipLedger } from './ledger.js';
import { overlaps } from './ledger.js';
import type { Outcome } from './send-request.js';

/**
 * `ok`: served by an allowed side. `fallback`: a canary GET served by the primary while the canary was down
 * (documented). `documented-502`: `canary_unavailable` for a canary request with a body while the canary was down.
 * `injected-500`: the canary's 500 to the platform the quarantine drill makes it fail, on the canary while the
 * platform was allowed there. Everything else is a failure: `lost` (no answer), `misroute`, `undocumented-5xx`,
 * `unexpected-status`.
 */
export type Verdict = 'ok' | 'fallback' | 'documented-502' | 'injected-500' | 'lost' | 'misroute' | 'undocumented-5xx' | 'unexpected-status';

export const VERDICTS: readonly Verdict[] = ['ok', 'fallback', 'documented-502', 'injected-500', 'lost', 'misroute', 'undocumented-5xx', 'unexpected-status'];

/** Drills during which the canary origin is down: the canary stopped for a fixed time, or until the guard paused it. */
function canaryDownIn(kind: DrillWindow['kind']): boolean {
  return kind === 'canary' || kind === 'guard';
}

/** Checks one answer against the routing state acknowledged when it was sent and the drills it overlapped. */
export async function judge(outcome: Outcome, ledger: MembershipLedger, drills: readonly DrillWindow[]): Promise<Verdict> {
  if (outcome.status === null) return 'lost';
  const { request, sentAt, receivedAt } = outcome;
  const allowed = await ledger.allowed(request.platformId, sentAt, receivedAt);
  const canaryDown = drills.some((w) => canaryDownIn(w.kind) && overlaps(w, sentAt, receivedAt));
  const replayable = request.method === 'GET';
  if (outcome.status >= 500) {
    const injected = drills.some((w) => w.kind === 'quarantine' && w.platformId === request.platformId && overlaps(w, sentAt, receivedAt));
    if (injected && outcome.status === 500 && outcome.errorCode === 'injected_fault' && outcome.origin === 'canary' && allowed.has(true)) return 'injected-500';
    const documented = outcome.status === 502 && outcome.errorCode === 'canary_unavailable' && canaryDown && allowed.has(true) && !replayable;
    return documented ? 'documented-502' : 'undocumented-5xx';
  }
  if (outcome.status < 200 || outcome.status >= 300) return 'unexpected-status';
  const side = outcome.origin === 'canary' ? true : outcome.origin === 'primary' ? false : null;
  if (side === null) return 'unexpected-status';
  if (allowed.has(side)) return 'ok';
  if (!side && canaryDown && allowed.has(true) && replayable) return 'fallback';
  return 'misroute';
}
