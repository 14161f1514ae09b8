import { describe, expect, it } from 'vitest';
import { durationSchema, formatDuration } from '../../tools/cli/duration.js';

describe('durations (--window)', () => {
  it.each([['90s', 90_000], ['10m', 600_000], ['1h', 3_600_000], ['24h', 86_400_000]])('read %s as %d ms', (text, ms) => {
    expect(durationSchema.parse(text)).toBe(ms);
  });

  it.each(['10', '10 m', '1d', '-5m', '0s', '25h', '1441m'])('refuse %j', (text) => {
    expect(durationSchema.safeParse(text).success).toBe(false);
  });

  it.each([[600_000, '10m'], [3_600_000, '1h'], [90_000, '90s'], [1_500, '2s']])('print %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
