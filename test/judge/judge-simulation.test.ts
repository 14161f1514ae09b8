import { describe, expect, it } from 'vitest';
import { SCENARIOS, SIMULATION_RUNS as RUNS, seedOf, simulate, tally } from '../../testkit/judge-simulation.js';

// The judge's statistics, as a seeded offline simulation of the product's own judge (testkit/judge-simulation.ts):
// deterministic (fixed seeds), in seconds. BENCHMARKS.md reports the same figures from the same seeds.


describe('the judge, over 1,000 seeded runs per scenario', () => {
  it('fails at most 1% of runs when canary and baseline are identical (requests and jobs, all four metrics)', () => {
    const t = tally(simulate(SCENARIOS.identical, RUNS, seedOf('identical')));
    expect(t.fail / t.runs).toBeLessThanOrEqual(0.01);
    expect(t.pass).toBe(t.runs - t.fail);
  });

  it('fails at least 95% of runs when the error rate doubles (0.5% -> 1.0%, 20,000 requests per arm)', () => {
    expect(tally(simulate(SCENARIOS.errorsDoubled, RUNS, seedOf('errorsDoubled'))).fail / RUNS).toBeGreaterThanOrEqual(0.95);
  });

  it('fails at least 90% of runs when p95 latency rises 50%, and at most 5% when it rises 10% (tolerance 25%)', () => {
    expect(tally(simulate(SCENARIOS.latencyPlus50, RUNS, seedOf('latencyPlus50'))).fail / RUNS).toBeGreaterThanOrEqual(0.9);
    expect(tally(simulate(SCENARIOS.latencyPlus10, RUNS, seedOf('latencyPlus10'))).fail / RUNS).toBeLessThanOrEqual(0.05);
  });

  it('is inconclusive in every run below the minimum sample, however bad the canary looks', () => {
    expect(tally(simulate(SCENARIOS.belowMinimum, RUNS, seedOf('belowMinimum'))).inconclusive).toBe(RUNS);
  });

  it('quarantines exactly the platform carrying 30% of the canary arm that fails all its requests, pausing nothing, in at least 99% of runs', () => {
    const t = tally(simulate(SCENARIOS.oneTenantBroken, RUNS, seedOf('oneTenantBroken')));
    // A run that quarantines exactly p0 pauses nothing (one action per tick).
    expect((t.quarantined.p0 ?? 0) / RUNS).toBeGreaterThanOrEqual(0.99);
  });

  it('pauses in at least 95% of runs when the error rate doubles on every platform', () => {
    expect(tally(simulate(SCENARIOS.broadDoubled, RUNS, seedOf('broadDoubled'))).pause / RUNS).toBeGreaterThanOrEqual(0.95);
  });

  it('still pauses in at least 95% of runs when one platform adds 10x everyone else\'s healthy traffic to dilute it', () => {
    expect(tally(simulate(SCENARIOS.broadDoubledDiluted, RUNS, seedOf('broadDoubledDiluted'))).pause / RUNS).toBeGreaterThanOrEqual(0.95);
  });
});
