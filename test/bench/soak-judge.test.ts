import { describe, expect, it } from 'vitest';
import { judge } from '../../bench/soak/judge.js';
import { MembershipLedger } from '../../bench/soak/ledger.js';
import type { DrillWindow } from '../../bench/soak/ledger.js';
import type { Outcome } from '../../bench/soak/send-request.js';
import type { SoakRequest } from '../../bench/soak/traffic.js';

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

describe('soak judge', () => {
  it('holds requests sent before a flip to the old side and requests sent after its 200 to the new side', () => {
    const ledger = ledgerWithFlip();
    expect(judge(outcome(get, 10, 50, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(judge(outcome(get, 10, 50, { origin: 'canary' }), ledger, [])).toBe('misroute');
    expect(judge(outcome(get, 201, 210, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(judge(outcome(get, 201, 210, { origin: 'primary' }), ledger, [])).toBe('misroute');
  });

  it('accepts either side for a request that overlaps the flip in flight', () => {
    const ledger = ledgerWithFlip();
    expect(judge(outcome(get, 90, 150, { origin: 'primary' }), ledger, [])).toBe('ok');
    expect(judge(outcome(get, 90, 150, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(judge(outcome(get, 150, 250, { origin: 'canary' }), ledger, [])).toBe('ok');
  });

  it('keeps a never-acknowledged flip open, so either side is accepted from its start on', () => {
    const ledger = new MembershipLedger(new Map([['p', false]]));
    ledger.begin('p', true, 100);
    expect(judge(outcome(get, 5_000, 5_010, { origin: 'canary' }), ledger, [])).toBe('ok');
    expect(judge(outcome(get, 10, 20, { origin: 'canary' }), ledger, [])).toBe('misroute');
  });

  it('accepts the documented canary-down behaviour only while the canary is down', () => {
    const ledger = new MembershipLedger(new Map([['p', true]]));
    const down: DrillWindow[] = [{ kind: 'canary', startedAt: 100, endedAt: 200 }];
    expect(judge(outcome(get, 150, 160, { origin: 'primary' }), ledger, down)).toBe('fallback');
    expect(judge(outcome(get, 250, 260, { origin: 'primary' }), ledger, down)).toBe('misroute');
    const unavailable = { status: 502, origin: null, errorCode: 'canary_unavailable' };
    expect(judge(outcome(post, 150, 160, unavailable), ledger, down)).toBe('documented-502');
    expect(judge(outcome(post, 250, 260, unavailable), ledger, down)).toBe('undocumented-5xx');
    expect(judge(outcome(get, 150, 160, unavailable), ledger, down)).toBe('undocumented-5xx');
  });

  it('counts a request without an answer as lost, and other statuses as failures', () => {
    const ledger = new MembershipLedger(new Map([['p', false]]));
    expect(judge(outcome(get, 1, 2, { status: null, origin: null, failure: 'ECONNRESET' }), ledger, [])).toBe('lost');
    expect(judge(outcome(get, 1, 2, { status: 500, origin: null }), ledger, [])).toBe('undocumented-5xx');
    expect(judge(outcome(get, 1, 2, { status: 404 }), ledger, [])).toBe('unexpected-status');
  });
});
