import type { Redis } from 'ioredis';
import type { RecordedRequest } from '../../testkit/echo-origin.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { adminCall, emptyChangeStats, untilAcknowledged } from './admin-change.js';
import type { ChangeStats } from './admin-change.js';
import { wallToPerf } from './guard-app.js';
import type { GuardApp, GuardTick } from './guard-app.js';
import { guardAuditEntries, settleHealthCounts } from './guard-drill.js';
import type { DrillWindow, FlipWindow, MembershipLedger } from './ledger.js';
import type { PlatformFixture } from './traffic.js';

/** What the one-platform failure drill saw; `problems` are failures of the judge or of the drill (each one is an error). */
export interface QuarantineDrillRecord {
  /** From the moment the canary began failing the platform until it stopped. */
  window: DrillWindow;
  /** The platform the canary failed. */
  platformId: string;
  /** The tick that quarantined it (null: the judge never did within the drill's bound). */
  tick: GuardTick | null;
  /** Ticks that started from the failure on, up to and including the one that quarantined. */
  ticksToQuarantine: number | null;
  /** The judge's audit entry (`at`: the commit). */
  audit: { id: number; at: string } | null;
  /** performance.now() of `audit.at`. */
  quarantinedAt: number | null;
  /** The operator's pin back in after the canary was fixed (acknowledged like a flip). */
  readmit: FlipWindow | null;
  readmitStats: ChangeStats;
  problems: string[];
}

export interface QuarantineDrillContext {
  harness: EdgeHarness;
  guard: GuardApp;
  ledger: MembershipLedger;
  /** A platform pinned into the canary: the one its canary fails. */
  fixture: PlatformFixture;
  /** The harness's Redis database (where the edge writes its signals). */
  redis: Redis;
  /** Canary requests whose counts a resume dropped before this drill (see settleHealthCounts). */
  droppedCounts: number;
  /** How long to wait for the quarantine before calling the drill failed. */
  timeoutMs: number;
  log: (line: string) => void;
}

/** True for a request naming `fixture` (its JWT, its API key, or its flow's webhook). */
function names(fixture: PlatformFixture): (request: RecordedRequest) => boolean {
  return (request) => {
    const authorization = request.headers.authorization ?? '';
    return authorization === `Bearer ${fixture.token}` || authorization === `Bearer ${fixture.apiKey}` || request.url.startsWith(`/v1/webhooks/${fixture.flowId}`);
  };
}

/**
 * The one-platform failure drill: the canary origin answers 500 to every request of one pinned platform (and serves
 * everybody else) until the real judge quarantines that platform — and only it, without a pause. The quarantine goes
 * into the ledger as a flip of that platform out, from the start of the tick that made it until the soak read that
 * tick's line; then the canary is fixed, the edge's signals settled, and an operator pins the platform back in (the
 * product drops its old canary evidence first, so the judge does not quarantine it again on the failures of the drill).
 */
export async function runQuarantineDrill(ctx: QuarantineDrillContext, windows: DrillWindow[]): Promise<QuarantineDrillRecord> {
  const { harness: h, guard, ledger, fixture } = ctx;
  const problems: string[] = [];
  const window: DrillWindow = { kind: 'quarantine', startedAt: performance.now(), endedAt: null, platformId: fixture.id };
  windows.push(window);
  const startedAtWall = Date.now();
  const record: QuarantineDrillRecord = {
    window,
    platformId: fixture.id,
    tick: null,
    ticksToQuarantine: null,
    audit: null,
    quarantinedAt: null,
    readmit: null,
    readmitStats: emptyChangeStats(),
    problems,
  };
  ctx.log(`drill: the canary fails every request of ${fixture.id} until the judge quarantines it`);
  h.canary.failWhen(names(fixture));
  const tick = await guard.waitForTick((t) => t.action !== 'none' && t.atMs >= startedAtWall, ctx.timeoutMs);
  h.canary.failWhen(null);
  window.endedAt = performance.now();
  if (tick === null || tick.action !== 'quarantined') {
    problems.push(tick === null ? `the judge did not quarantine ${fixture.id} within ${ctx.timeoutMs} ms` : `the judge answered the failure of one platform with "${tick.action}"`);
    if (tick?.action === 'paused') ledger.ack(ledger.beginPause(true, 'judge', wallToPerf(tick.atMs) - 1), tick.observedAt);
  }
  if (tick !== null) {
    // Whatever it quarantined is routed to the primary from that tick on: the ledger holds the soak to it.
    for (const platformId of tick.quarantined) ledger.ack(ledger.begin(platformId, false, wallToPerf(tick.atMs) - 1), tick.observedAt);
  }
  if (tick?.action === 'quarantined') {
    record.tick = tick;
    record.ticksToQuarantine = guard.ticks.filter((t) => t.atMs >= startedAtWall && t.atMs <= tick.atMs).length;
    if (tick.quarantined.join() !== fixture.id) problems.push(`the judge quarantined ${tick.quarantined.join(', ')} for the failure of ${fixture.id} alone`);
    const entry = (await guardAuditEntries(h)).find((e) => e.action === 'quarantine' && e.platformId === fixture.id && Date.parse(e.at) >= startedAtWall);
    if (entry === undefined) problems.push(`the judge quarantined ${fixture.id} but its audit entry is missing`);
    else {
      record.audit = { id: entry.id, at: entry.at };
      record.quarantinedAt = wallToPerf(Date.parse(entry.at));
    }
    ctx.log(`drill: the judge quarantined ${tick.quarantined.join(', ')} ${Date.parse(entry?.at ?? tick.at) - startedAtWall} ms after the failure began (tick ${record.ticksToQuarantine})`);
  }
  // Every platform the tick moved comes back, once the edge has sent the signals of the failure.
  await settleHealthCounts(h, ctx.redis, problems, ctx.log, ctx.droppedCounts);
  for (const platformId of tick?.quarantined ?? []) {
    const readmit = ledger.begin(platformId, true, performance.now());
    if (platformId === fixture.id) record.readmit = readmit;
    const result = await untilAcknowledged(
      () => adminCall(h, 'POST', '/v1/admin/platforms/canary', { platformId, canary: true, reason: 'soak: quarantine drill over, canary fixed' }),
      readmit,
      ledger,
      record.readmitStats,
      { giveUpAt: performance.now() + 30_000, retryMs: 100 },
    );
    if (!result.acked) problems.push(`pinning ${platformId} back in after the quarantine drill was never acknowledged`);
  }
  ctx.log('drill: the canary serves the platform again and it is pinned back in');
  return record;
}
