import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSoak } from '../../bench/soak/run-soak.js';
import type { SoakSummary } from '../../bench/soak/soak-summary.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

// A short `npm run soak`: flips every second and a release plan setting the rollout while the canary fails everyone
// until the real judge (an origin app's) pauses it, then fails one pinned platform until the judge quarantines that
// platform, and Upstash, Neon and the canary origin are each stopped and restarted under a steady request rate. Only
// counts are asserted (no timings).
let h: EdgeHarness;
let summary: SoakSummary;

// The soak runs once, in the setup; each test reads its summary (none depends on another test having run).
beforeAll(async () => {
  h = await startEdgeHarness({ storeTimeoutMs: 1_000 });
  summary = await runSoak(h, {
    seconds: 20,
    rate: 60,
    platforms: 30,
    canaryFraction: 0.2,
    flipShare: 0.25,
    flipIntervalMs: 1_000,
    drills: true,
    drillSeconds: 1.5,
    plan: true,
    log: () => undefined,
  });
}, 180_000);
afterAll(async () => {
  await h?.close();
});

describe('fault drills under load with flips and rollout changes', () => {
  it('answers every request, routes by the acknowledged state, and only returns documented errors', () => {
    expect(summary.examples).toEqual([]);
    expect(summary.verdicts.lost).toBe(0);
    expect(summary.verdicts['undocumented-5xx']).toBe(0);
    expect(summary.verdicts['unexpected-status']).toBe(0);
    expect(summary.misroutes).toBe(0);
    expect(summary.errors).toBe(0);
    expect(summary.mix).toEqual({ pinned: 3, keptOut: 12, following: 15 });
    expect(summary.drills.map((d) => d.kind)).toEqual(['guard', 'quarantine', 'upstash', 'neon', 'canary']);
    for (const drill of summary.drills) expect(drill.requests).toBeGreaterThan(0);
    expect(summary.flips.acked).toBeGreaterThan(0);
    expect(summary.flips.unacked).toBe(0);
    expect(summary.rollout).toBeNull(); // the plan sets the rollout
  });

  it('runs a release plan beside the drills, and the broad failure aborts it (the rollout back where the plan found it)', () => {
    expect(summary.plan).toMatchObject({ state: 'aborted' });
    expect(summary.plan?.transitions.at(-1)).toMatchObject({ transition: 'abort', reason: expect.stringContaining('the judge paused canary routing') });
  });

  it('sees the judge pause the canary that fails everyone exactly once, and never outside its drill', () => {
    expect(summary.guard?.problems).toEqual([]);
    expect(summary.guard?.tripped).toBe(true);
    expect(summary.guard?.ticksToPause).toBeGreaterThanOrEqual(1);
    expect(summary.guard?.reactionMs).toBeGreaterThan(0);
    expect(summary.guard?.resumeAckMs).not.toBeNull();
  });

  it('sees the judge quarantine exactly the one platform the canary fails, without a pause, and nothing after it is pinned back', () => {
    const quarantine = summary.guard?.quarantine;
    expect(quarantine?.quarantined).toEqual([quarantine?.platformId]);
    expect(quarantine?.injected).toBeGreaterThan(0);
    expect(quarantine?.readmitAckMs).not.toBeNull();
    expect(summary.verdicts['injected-500']).toBe(quarantine?.injected);
  });
});
