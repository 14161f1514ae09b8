import type { Redis } from 'ioredis';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import type { GuardApp } from './guard-app.js';
import { runGuardDrill } from './guard-drill.js';
import type { GuardDrillRecord } from './guard-drill.js';
import { runQuarantineDrill } from './quarantine-drill.js';
import type { QuarantineDrillRecord } from './quarantine-drill.js';
import type { PlatformFixture } from './traffic.js';
import type { DrillKind, DrillWindow, MembershipLedger } from './ledger.js';
import type { Pausable } from './pausable-ticker.js';

export interface DrillPlan {
  kind: DrillKind;
  /** When to start, in ms after the load started (a drill never starts before the previous one is over). */
  atMs: number;
  /** How long the service stays down; for the judge's drills, the longest they wait for the judge to act. */
  downMs: number;
}

/** How long the judge's drills wait for it to act: far beyond their expected seconds, below the window. */
const GUARD_PAUSE_TIMEOUT_MS = 30_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/**
 * Spreads the drills over the soak: the judge's first, while its window holds only healthy traffic (the canary failing
 * everyone at 5%, then one platform right after the resume), then Upstash at 20%, Neon at 45% and the canary origin
 * at 70% of the run (each drill starts when the previous one is over, at the earliest).
 */
export function drillPlan(seconds: number, downSeconds: number, guard = false): DrillPlan[] {
  const downMs = downSeconds * 1000;
  const at = (fraction: number): number => seconds * 1000 * fraction;
  return [
    ...(guard
      ? [
          { kind: 'guard' as const, atMs: at(0.05), downMs: GUARD_PAUSE_TIMEOUT_MS },
          { kind: 'quarantine' as const, atMs: at(0.05), downMs: GUARD_PAUSE_TIMEOUT_MS },
        ]
      : []),
    { kind: 'upstash', atMs: at(0.2), downMs },
    { kind: 'neon', atMs: at(0.45), downMs },
    { kind: 'canary', atMs: at(0.7), downMs },
  ];
}

/**
 * Makes sure the edge's cohort is cached before Postgres goes away, so the drill tests what it should: warm requests
 * need no database. Polls (bounded) with a warm request until the cohort key exists.
 */
async function warmCohort(h: EdgeHarness, warmRequest: () => Promise<void>, cohortExists: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 100; i++) {
    await warmRequest();
    if (await cohortExists()) return;
    await sleep(20);
  }
  throw new Error(`the edge did not cache the cohort before the Neon drill (${h.url})`);
}

export interface DrillContext {
  harness: EdgeHarness;
  /** What changes routing state during the run (the flipper, the rollout changer): held still around the Neon stop. */
  changers: readonly Pausable[];
  ledger: MembershipLedger;
  /** The guard app (null: no guard drill). */
  guard: GuardApp | null;
  /** A platform pinned into the canary, for the quarantine drill. */
  quarantineFixture: PlatformFixture | null;
  /** The harness's Redis database. */
  redis: Redis;
  /** performance.now() at which the load started. */
  startedAt: number;
  warmRequest: () => Promise<void>;
  cohortExists: () => Promise<boolean>;
  log: (line: string) => void;
}

/** What the drills did: their outage windows, and the judge's drills' records (null when there was none). */
export interface DrillsResult {
  windows: DrillWindow[];
  guard: GuardDrillRecord | null;
  quarantine: QuarantineDrillRecord | null;
}

/** Runs one fixed-outage drill: stop the service, keep it down, restart it and wait until it is ready. */
async function runOutage(plan: DrillPlan, ctx: DrillContext, windows: DrillWindow[]): Promise<void> {
  const h = ctx.harness;
  if (plan.kind === 'canary' && ctx.guard !== null) {
    // A canary down this long is exactly what the guard exists to stop (a 5% error rate over its window is reached
    // within seconds), so the guard app is retired first: this drill documents the edge's own behaviour with the canary
    // gone (fallback, 502), the guard drill documents the guard's.
    await ctx.guard.retire();
    ctx.log('drill: guard app stopped before the canary outage');
  }
  // Changes keep going through every drill except at the instant Postgres is stopped (see warmCohort).
  if (plan.kind === 'neon') {
    for (const changer of ctx.changers) await changer.pause();
    await warmCohort(h, ctx.warmRequest, ctx.cohortExists);
  }
  const window: DrillWindow = { kind: plan.kind, startedAt: performance.now(), endedAt: null };
  windows.push(window);
  ctx.log(`drill: stopping ${plan.kind} for ${(plan.downMs / 1000).toFixed(1)} s`);
  const stop = plan.kind === 'upstash' ? h.stopUpstash() : plan.kind === 'neon' ? h.stopNeon() : h.stopCanary();
  await stop;
  if (plan.kind === 'neon') for (const changer of ctx.changers) changer.resume();
  await sleep(window.startedAt + plan.downMs - performance.now());
  if (plan.kind === 'upstash') await h.startUpstash();
  else if (plan.kind === 'neon') await h.startNeon();
  else await h.startCanary();
  window.endedAt = performance.now();
  ctx.log(`drill: ${plan.kind} is back`);
}

/** Runs the drills one after the other at their planned times; resolves with their windows and the guard's record. */
export async function runDrills(plans: readonly DrillPlan[], ctx: DrillContext): Promise<DrillsResult> {
  const windows: DrillWindow[] = [];
  let guard: GuardDrillRecord | null = null;
  let quarantine: QuarantineDrillRecord | null = null;
  for (const plan of plans) {
    await sleep(ctx.startedAt + plan.atMs - performance.now());
    if (plan.kind !== 'guard' && plan.kind !== 'quarantine') {
      await runOutage(plan, ctx, windows);
      continue;
    }
    if (ctx.guard === null) throw new Error("the judge's drills need the guard app");
    if (plan.kind === 'guard') {
      guard = await runGuardDrill(
        { harness: ctx.harness, guard: ctx.guard, ledger: ctx.ledger, redis: ctx.redis, pauseTimeoutMs: plan.downMs, log: ctx.log },
        windows,
      );
      continue;
    }
    if (ctx.quarantineFixture === null) throw new Error('the quarantine drill needs a platform pinned into the canary');
    quarantine = await runQuarantineDrill(
      { harness: ctx.harness, guard: ctx.guard, ledger: ctx.ledger, fixture: ctx.quarantineFixture, redis: ctx.redis, droppedCounts: guard?.droppedByResume ?? 0, timeoutMs: plan.downMs, log: ctx.log },
      windows,
    );
  }
  return { windows, guard, quarantine };
}
