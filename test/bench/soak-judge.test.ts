import { describe, expect, it } from 'vitest';
import { judge } from '../../bench/soak/judge.js';
import { MembershipLedger } from '../../bench/soak/ledger.js';
import type { DrillWindow } from '../../bench/soak/ledger.js';
import type { Outcome } from '../../bench/soak/send-request.js';
import type { SoakRequest } from '../../bench/soak/traffic.js';
import { rolloutBucket } from '../../core/rollout/bucket.js';

const get: SoakRequest = { platformId: 'p', kind: 'jwt', method: 'GET', path: '/v1/flows', headers: {}, body: null };
const post: SoakRequest = { ...get, kind: 'webhook', method: 'POST', body: '{}' };

function outcome(request: SoakRequest, sentAt: number, receivedAt: number, answer: Partial<Outcome>): Outcome {
  return { request, sentAt, receivedAt, status: 200, origin: 'primary', errorCode: null, failure: null, ...answer };
}

/** p starts on the primary; a flip to canary is in flight from t=100 and acknowledged at t=200. */
function ledgerWithFlip(): MembershipLedger {
  const ledger = new MembershipLedger(new Map([['p', false]]));
  ledger.ack(ledger.begin('p', true, 100), 200);
  return ledger;
}

const SALT = 'soak-test-salt';

/**
 * p has no explicit choice and follows a rollout that starts just below its bucket (p out); a change to just above it
 * (p in) is in flight from t=100 and acknowledged at t=200.
 */
async function ledgerWithRollout(initial: boolean | null = null): Promise<MembershipLedger> {
  const bucket = await rolloutBucket(SALT, 'p');
  const ledger = new MembershipLedger(new Map([['p', initial]]), { basisPoints: bucket, salt: SALT, paused: false });
  ledger.ack(ledger.beginRollout(bucket + 1, SALT, 100), 200);
  return ledger;
}

/** p is pinned in; the judge pauses routing (its tick starts at t=100, seen done at t=200); a resume runs from t=300 to t=400. */
function ledgerWithPause(): MembershipLedger {
  const ledger = new MembershipLedger(new Map([['p', true]]));
  ledger.ack(ledger.beginPause(true, 'judge', 100), 200);
  ledger.ack(ledger.beginPause(false, 'admin', 300), 400);
  return ledger;
}

describe('soak judge', () => {
  it('holds requests sent before a flip to the old side and requests sent after its 200 to the new side', async () => {
    const ledger = ledgerWithFlip();
    expect(await judge(outcome(get, 10, 50, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 10, 50, { origin: 'canary' }), ledger, [])).toBe('misroute');
    expect(await judge(outcome(get, 201, 210, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 201, 210, { origin: 'primary' }), ledger, [])).toBe('misroute');
  });

  it('accepts either side for a request that overlaps the flip in flight', async () => {
    const ledger = ledgerWithFlip();
    expect(await judge(outcome(get, 90, 150, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 90, 150, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 150, 250, { origin: 'canary' }), ledger, [])).toBe('ok');
  });

  it('keeps a never-acknowledged flip open, so either side is accepted from its start on', async () => {
    const ledger = new MembershipLedger(new Map([['p', false]]));
    ledger.begin('p', true, 100);
    expect(await judge(outcome(get, 5_000, 5_010, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 10, 20, { origin: 'canary' }), ledger, [])).toBe('misroute');
  });

  it('routes a platform without an explicit choice by its rollout bucket, the new percentage from the 200 on', async () => {
    const ledger = await ledgerWithRollout();
    expect(await judge(outcome(get, 10, 50, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 10, 50, { origin: 'canary' }), ledger, [])).toBe('misroute');
    expect(await judge(outcome(get, 201, 210, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 201, 210, { origin: 'primary' }), ledger, [])).toBe('misroute');
  });

  it('accepts either side for a platform that changes side during a rollout change in flight', async () => {
    const ledger = await ledgerWithRollout();
    expect(await judge(outcome(get, 90, 150, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 150, 250, { origin: 'canary' }), ledger, [])).toBe('ok');
  });

  it('holds platforms with an explicit choice to it, whatever the rollout does', async () => {
    const out = await ledgerWithRollout(false);
    expect(await judge(outcome(get, 150, 250, { origin: 'canary' }), out, [])).toBe('misroute');
    expect(await judge(outcome(get, 201, 210, { origin: 'canary' }), out, [])).toBe('misroute');
    const pinned = await ledgerWithRollout(true);
    expect(await judge(outcome(get, 10, 50, { origin: 'canary' }), pinned, [])).toBe('ok');
    expect(await judge(outcome(get, 10, 50, { origin: 'primary' }), pinned, [])).toBe('misroute');
  });

  it('sends every platform to the primary from the pause on, either side around it, and back after the resume', async () => {
    const ledger = ledgerWithPause();
    expect(await judge(outcome(get, 10, 50, { origin: 'primary' }), ledger, [])).toBe('misroute');
    expect(await judge(outcome(get, 90, 150, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 90, 150, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 201, 210, { origin: 'canary' }), ledger, [])).toBe('misroute');
    expect(await judge(outcome(post, 201, 210, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 350, 360, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(await judge(outcome(get, 401, 410, { origin: 'primary' }), ledger, [])).toBe('misroute');
    expect(await judge(outcome(get, 401, 410, { origin: 'canary' }), ledger, [])).toBe('ok');
  });

  it('accepts the documented canary-down behaviour only while the canary is down', async () => {
    const ledger = new MembershipLedger(new Map([['p', true]]));
    const down: DrillWindow[] = [{ kind: 'canary', startedAt: 100, endedAt: 200 }];
    expect(await judge(outcome(get, 150, 160, { origin: 'primary' }), ledger, down)).toBe('fallback');
    expect(await judge(outcome(get, 250, 260, { origin: 'primary' }), ledger, down)).toBe('misroute');
    const unavailable = { status: 502, origin: null, errorCode: 'canary_unavailable' };
    expect(await judge(outcome(post, 150, 160, unavailable), ledger, down)).toBe('documented-502');
    expect(await judge(outcome(post, 250, 260, unavailable), ledger, down)).toBe('undocumented-5xx');
    expect(await judge(outcome(get, 150, 160, unavailable), ledger, down)).toBe('undocumented-5xx');
  });

  it('treats the guard drill as the canary being down, and a paused canary as no excuse for a 502', async () => {
    const ledger = ledgerWithPause();
    const failing: DrillWindow[] = [{ kind: 'guard', startedAt: 50, endedAt: 250 }];
    const unavailable = { status: 502, origin: null, errorCode: 'canary_unavailable' };
    expect(await judge(outcome(get, 60, 70, { origin: 'primary' }), ledger, failing)).toBe('fallback');
    expect(await judge(outcome(post, 60, 70, unavailable), ledger, failing)).toBe('documented-502');
    expect(await judge(outcome(post, 210, 220, unavailable), ledger, failing)).toBe('undocumented-5xx');
  });

  it('accepts the canary\'s injected 500 only for the quarantine drill\'s platform, inside its drill, while it may be on the canary', async () => {
    const ledger = new MembershipLedger(new Map([['p', true], ['q', true]]));
    ledger.ack(ledger.begin('p', false, 180), 190); // the judge's quarantine
    const drill: DrillWindow[] = [{ kind: 'quarantine', startedAt: 100, endedAt: 200, platformId: 'p' }];
    const injected = { status: 500, origin: 'canary', errorCode: 'injected_fault' };
    expect(await judge(outcome(get, 150, 160, injected), ledger, drill)).toBe('injected-500');
    expect(await judge({ ...outcome(get, 150, 160, injected), request: { ...get, platformId: 'q' } }, ledger, drill)).toBe('undocumented-5xx');
    expect(await judge(outcome(get, 250, 260, injected), ledger, drill)).toBe('undocumented-5xx');
    expect(await judge(outcome(get, 195, 199, injected), ledger, drill)).toBe('undocumented-5xx'); // quarantined by then
    expect(await judge(outcome(get, 150, 160, { status: 500, origin: 'canary', errorCode: 'internal' }), ledger, drill)).toBe('undocumented-5xx');
  });

  it('counts a request without an answer as lost, and other statuses as failures', async () => {
    const ledger = new MembershipLedger(new Map([['p', false]]));
    expect(await judge(outcome(get, 1, 2, { status: null, origin: null, failure: 'ECONNRESET' }), ledger, [])).toBe('lost');
    expect(await judge(outcome(get, 1, 2, { status: 500, origin: null }), ledger, [])).toBe('undocumented-5xx');
    expect(await judge(outcome(get, 1, 2, { status: 404 }), ledger, [])).toBe('unexpected-status');
  });
});
