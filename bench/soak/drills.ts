import type { EdgeHarness } from '../../testkit/edge-harness.js';
import type { Flipper } from './flipper.js';
import type { DrillKind, DrillWindow } from './ledger.js';

export interface DrillPlan {
  kind: DrillKind;
  /** When to start, in ms after the load started. */
  atMs: number;
  /** How long the service stays down. */
  downMs: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Spreads the three drills over the soak: Upstash at 20%, Neon at 45%, the canary origin at 70% of the run. */
export function drillPlan(seconds: number, downSeconds: number): DrillPlan[] {
  const downMs = downSeconds * 1000;
  const at = (fraction: number): number => seconds * 1000 * fraction;
  return [
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
  flipper: Flipper;
  /** performance.now() at which the load started. */
  startedAt: number;
  warmRequest: () => Promise<void>;
  cohortExists: () => Promise<boolean>;
  log: (line: string) => void;
}

/** Runs one drill at its time: stop the service, keep it down, restart it and wait until it is ready. */
async function runDrill(plan: DrillPlan, ctx: DrillContext, windows: DrillWindow[]): Promise<void> {
  const h = ctx.harness;
  await sleep(ctx.startedAt + plan.atMs - performance.now());
  // Flips keep going through every drill except at the instant Postgres is stopped (see warmCohort).
  if (plan.kind === 'neon') {
    await ctx.flipper.pause();
    await warmCohort(h, ctx.warmRequest, ctx.cohortExists);
  }
  const window: DrillWindow = { kind: plan.kind, startedAt: performance.now(), endedAt: null };
  windows.push(window);
  ctx.log(`drill: stopping ${plan.kind} for ${(plan.downMs / 1000).toFixed(1)} s`);
  const stop = plan.kind === 'upstash' ? h.stopUpstash() : plan.kind === 'neon' ? h.stopNeon() : h.stopCanary();
  await stop;
  if (plan.kind === 'neon') ctx.flipper.resume();
  await sleep(window.startedAt + plan.downMs - performance.now());
  if (plan.kind === 'upstash') await h.startUpstash();
  else if (plan.kind === 'neon') await h.startNeon();
  else await h.startCanary();
  window.endedAt = performance.now();
  ctx.log(`drill: ${plan.kind} is back`);
}

/** Runs the drills one after the other at their planned times; resolves with their windows. */
export async function runDrills(plans: readonly DrillPlan[], ctx: DrillContext): Promise<DrillWindow[]> {
  const windows: DrillWindow[] = [];
  for (const plan of plans) await runDrill(plan, ctx, windows);
  return windows;
}
