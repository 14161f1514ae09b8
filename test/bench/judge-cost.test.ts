import { describe, expect, it } from 'vitest';
import { measureJudgeCost } from '../../bench/judge/measure-judge.js';

// The bench's judge-cost step at a small scale: it writes through the product's recorder, measures real Redis memory
// and runs the app's tick on real Postgres. Figures are the bench's (no timing is asserted here).
describe('the judge cost measurement', () => {
  it('writes one minute of healthy signals, reads every platform back, and the tick passes without acting', async () => {
    const cost = await measureJudgeCost({ platforms: 12_000, ticks: 2 });
    expect(cost).toMatchObject({ platforms: 12_000, canaryPlatforms: 2_400, fieldsRead: 12_000, verdict: 'pass', action: 'none' });
    expect(cost.tickMs).toHaveLength(2);
    expect(cost.bytesPerPlatformMinute).toBeGreaterThan(20);
    expect(cost.observations).toBeGreaterThan(12_000);
  });
});
