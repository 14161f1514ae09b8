import { describe, expect, it } from 'vitest';
import { EdgeCheckExitCode, judge } from '../../tools/deploy/edge-verdict.js';

const THRESHOLDS = { minRequests: 200, maxIncreasePoints: 0.5 };

describe('the edge check verdict', () => {
  it('is healthy when the new error rate stays within the previous rate plus the allowed points', () => {
    const verdict = judge({ requests: 1_000, errors: 5 }, { requests: 9_000, errors: 27 }, THRESHOLDS);
    expect(verdict).toEqual({
      kind: 'healthy',
      reason: 'new version errored on 0.50% of 1000 requests, previous version on 0.30% of 9000; within the allowed 0.80% (previous + 0.5 points)',
    });
  });

  it('is unhealthy, naming both rates, when the new version errors more than that', () => {
    const verdict = judge({ requests: 1_000, errors: 32 }, { requests: 9_000, errors: 9 }, THRESHOLDS);
    expect(verdict.kind).toBe('unhealthy');
    expect(verdict.reason).toBe('new version errored on 3.20% of 1000 requests, previous version on 0.10% of 9000; more than the allowed 0.60% (previous + 0.5 points)');
  });

  it('is healthy when neither version errored', () => {
    expect(judge({ requests: 200, errors: 0 }, { requests: 1_800, errors: 0 }, THRESHOLDS).kind).toBe('healthy');
  });

  it.each([
    ['the new version', { requests: 199, errors: 0 }, { requests: 9_000, errors: 0 }],
    ['the previous version', { requests: 1_000, errors: 0 }, { requests: 150, errors: 0 }],
    ['either, with errors that would otherwise be unhealthy', { requests: 10, errors: 10 }, { requests: 90, errors: 0 }],
    ['either, when nothing ran', { requests: 0, errors: 0 }, { requests: 0, errors: 0 }],
  ])('is inconclusive when %s served too few requests', (_case, newer, previous) => {
    const verdict = judge(newer, previous, THRESHOLDS);
    expect(verdict.kind).toBe('inconclusive');
    expect(verdict.reason).toMatch(/too few requests to compare \(new version \d+ request\(s\), previous version \d+; each needs at least 200\)/);
  });

  it('has exit codes of its own for unhealthy and inconclusive, and never reuses 4 (the ledger conflict)', () => {
    expect(EdgeCheckExitCode).toEqual({ ok: 0, failed: 1, usage: 2, unhealthy: 3, inconclusive: 5 });
  });
});
