import type { Redis } from 'ioredis';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { adminCall, emptyChangeStats, untilAcknowledged } from './admin-change.js';
import type { ChangeStats } from './admin-change.js';
import { wallToPerf } from './guard-app.js';
import type { GuardApp, GuardTick } from './guard-app.js';
import type { DrillWindow, MembershipLedger, PauseWindow } from './ledger.js';

/** What the canary failure drill saw; `problems` are failures of the guard or of the drill (each one counts as an error). */
export interface GuardDrillRecord {
  /** The canary outage: from the stop until the canary answered again. */
  window: DrillWindow;
  /** Date.now() when the canary was stopped. */
  startedAtWall: number;
  /** The tick that paused canary routing (null: the guard never paused within the drill's bound). */
  pauseTick: GuardTick | null;
  /** Ticks that started from the failure on, up to and including the one that paused. */
  ticksToPause: number | null;
  /** The guard's audit entry: `at` is Postgres' now() of the statement that paused (the commit). */
  pauseAudit: { id: number; at: string } | null;
  /** performance.now() of `pauseAudit.at`. */
  pausedAt: number | null;
  /** The operator's resume after the canary was restored (acknowledged like a flip). */
  resume: PauseWindow | null;
  /** Canary requests routed before the resume, whose counts it dropped (none are routed to the canary while paused). */
  droppedByResume: number;
  resumeStats: ChangeStats;
  problems: string[];
}

export interface GuardDrillContext {
  harness: EdgeHarness;
  guard: GuardApp;
  ledger: MembershipLedger;
  /** The harness's Redis database (where the edge writes its health counts). */
  redis: Redis;
  /** How long to wait for the guard to pause before calling the drill failed. */
  pauseTimeoutMs: number;
  log: (line: string) => void;
}

/** One audit log entry, as the admin route answers it (the fields the soak reads). */
export interface SoakAuditEntry {
  id: number;
  at: string;
  actor: string;
  action: string;
  platformId: string | null;
}

function auditEntriesOf(body: unknown): { entries: SoakAuditEntry[]; next: number | null } | null {
  if (typeof body !== 'object' || body === null) return null;
  const entries: unknown = Reflect.get(body, 'entries');
  const next: unknown = Reflect.get(body, 'next');
  if (!Array.isArray(entries)) return null;
  const parsed: SoakAuditEntry[] = [];
  for (const e of entries as unknown[]) {
    if (typeof e !== 'object' || e === null) return null;
    const [id, at, actor, action, platformId] = ['id', 'at', 'actor', 'action', 'platformId'].map((k) => Reflect.get(e, k) as unknown);
    if (typeof id !== 'number' || typeof at !== 'string' || typeof actor !== 'string' || typeof action !== 'string') return null;
    parsed.push({ id, at, actor, action, platformId: typeof platformId === 'string' ? platformId : null });
  }
  return { entries: parsed, next: typeof next === 'number' ? next : null };
}

/** Every audit entry by `judge` (the guard's successor), newest first, read page by page through the admin route. */
export async function guardAuditEntries(h: EdgeHarness): Promise<SoakAuditEntry[]> {
  const found: SoakAuditEntry[] = [];
  let before: number | null = null;
  for (let page = 0; page < 1_000; page++) {
    const answer = await adminCall(h, 'GET', `/v1/admin/canary/audit?limit=500${before === null ? '' : `&before=${before}`}`);
    const parsed = answer.status === 200 ? auditEntriesOf(answer.body) : null;
    if (parsed === null) throw new Error(`the audit log could not be read: ${answer.status} ${JSON.stringify(answer.body)}`);
    found.push(...parsed.entries.filter((e) => e.actor === 'judge'));
    if (parsed.next === null) return found;
    before = parsed.next;
  }
  throw new Error('the audit log did not end within 1,000 pages');
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Requests the edge routed to the canary so far, from its request log lines (each one is counted once for the guard). */
function canaryDecisions(logs: readonly string[]): number {
  let n = 0;
  for (const line of logs) if (line.includes('"msg":"request"') && line.includes('"decision":"canary"')) n++;
  return n;
}

/** Canary requests in the edge's health counts (every minute key). */
async function countedCanaryRequests(redis: Redis): Promise<number> {
  const keys = await redis.keys('canary-edge:health:*');
  const values = await Promise.all(keys.map((k) => redis.hget(k, 'canary:requests')));
  return values.reduce((sum, v) => sum + (Number(v ?? 0) || 0), 0);
}

/**
 * Waits until the edge has sent every canary signal it holds (an isolate batches them for up to a second), so the
 * change that follows (a resume, a platform pinned back in) meets a settled window. That change itself starts the
 * judge afresh (the edge drops the window, or the platform's canary evidence, just before it commits): the soak relies
 * on the product for that, and a second action by the judge afterwards is one of the drill's errors. `dropped`: the
 * canary requests whose counts a resume dropped before (routed, not counted any more).
 */
export async function settleHealthCounts(h: EdgeHarness, redis: Redis, problems: string[], log: (line: string) => void, dropped = 0): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const expected = canaryDecisions(h.logs) - dropped;
    const counted = await countedCanaryRequests(redis);
    if (counted === expected) break;
    if (performance.now() > deadline) {
      // Past the deadline nothing is pending any more (an isolate flushes within a second); a batch the edge failed to
      // send (logged as a `health-record` store error) is lost by design, anything else is not.
      const lost = h.logs.some((l) => l.includes('"msg":"store error"') && l.includes('"stage":"health-record"'));
      if (!lost) problems.push(`the edge's signals did not settle (${counted} canary requests counted, ${expected} routed)`);
      else log(`drill: some signals were lost by the edge (${counted} canary requests counted, ${expected} routed)`);
      break;
    }
    await sleep(50);
  }
}

/**
 * The canary failure drill: the canary origin is stopped (so canary GETs fall back to the primary and other canary
 * requests get `502 canary_unavailable`, the edge counting each as a canary error) until the real health guard pauses
 * canary routing; then the canary is restored and routing resumed through the admin route (which starts the
 * guard's window afresh). The pause goes into the ledger from the start of the tick that made it (before its commit) until the soak
 * read that tick's line (after the cache was invalidated); the resume like a flip.
 */
export async function runGuardDrill(ctx: GuardDrillContext, windows: DrillWindow[]): Promise<GuardDrillRecord> {
  const { harness: h, guard, ledger } = ctx;
  const problems: string[] = [];
  const window: DrillWindow = { kind: 'guard', startedAt: performance.now(), endedAt: null };
  windows.push(window);
  const startedAtWall = Date.now();
  const record: GuardDrillRecord = {
    window,
    startedAtWall,
    pauseTick: null,
    ticksToPause: null,
    pauseAudit: null,
    pausedAt: null,
    resume: null,
    droppedByResume: 0,
    resumeStats: emptyChangeStats(),
    problems,
  };
  ctx.log('drill: stopping the canary until the health guard pauses canary routing');
  await h.stopCanary();
  // Only a tick that started after the failure can be the drill's; an earlier pause is one outside the drill.
  const pauseTick = await guard.waitForTick((t) => t.action === 'paused' && t.atMs >= startedAtWall, ctx.pauseTimeoutMs);
  if (pauseTick === null) {
    problems.push(`the guard did not pause within ${ctx.pauseTimeoutMs} ms of the canary failing`);
  } else {
    record.pauseTick = pauseTick;
    record.ticksToPause = guard.ticks.filter((t) => t.atMs >= startedAtWall && t.atMs <= pauseTick.atMs).length;
    // The tick's start precedes its commit; one millisecond covers the ISO rounding of both clocks.
    const pause = ledger.beginPause(true, 'judge', wallToPerf(pauseTick.atMs) - 1);
    pause.attempts = 1;
    if (guard.errorLines.some((l) => l.includes('could not invalidate'))) {
      problems.push('the guard paused in Postgres but could not invalidate the routing cache');
    } else {
      ledger.ack(pause, pauseTick.observedAt);
    }
    let entry: SoakAuditEntry | undefined;
    try {
      entry = (await guardAuditEntries(h)).find((e) => e.action === 'pause' && Date.parse(e.at) >= startedAtWall);
      if (entry === undefined) problems.push('the guard paused but its audit entry is missing');
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    if (entry !== undefined) {
      record.pauseAudit = { id: entry.id, at: entry.at };
      record.pausedAt = wallToPerf(Date.parse(entry.at));
    }
    ctx.log(`drill: the guard paused canary routing ${Date.parse(entry?.at ?? pauseTick.at) - startedAtWall} ms after the canary stopped (tick ${record.ticksToPause})`);
  }
  await h.startCanary();
  window.endedAt = performance.now();
  if (pauseTick !== null) {
    await settleHealthCounts(h, ctx.redis, problems, ctx.log);
    record.droppedByResume = canaryDecisions(h.logs);
    const resume = ledger.beginPause(false, 'admin', performance.now());
    record.resume = resume;
    const result = await untilAcknowledged(
      () => adminCall(h, 'POST', '/v1/admin/canary/resume', { reason: 'soak: guard drill over, canary restored' }),
      resume,
      ledger,
      record.resumeStats,
      { giveUpAt: performance.now() + 30_000, retryMs: 100 },
    );
    if (!result.acked) problems.push('the resume after the guard drill was never acknowledged');
  }
  ctx.log('drill: the canary is back and canary routing resumed');
  return record;
}
