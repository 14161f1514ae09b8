import { z } from 'zod';

const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

// Longer waits would also overflow Node's timers (about 24.8 days), which then fire at once.
const MAX_MS = 24 * UNIT_MS.h;

/** A `--window`-style duration such as `90s`, `10m` or `1h` (at most 24h), as milliseconds. */
export const durationSchema = z.string()
  .regex(/^\d{1,6}[smh]$/, 'must be a duration such as 90s, 10m or 1h')
  .transform((text) => Number(text.slice(0, -1)) * (text.endsWith('h') ? UNIT_MS.h : text.endsWith('m') ? UNIT_MS.m : UNIT_MS.s))
  .refine((ms) => ms > 0 && ms <= MAX_MS, 'must be more than 0s and at most 24h');

/** `ms` as the shortest exact duration text, e.g. 600000 -> `10m`. */
export function formatDuration(ms: number): string {
  if (ms % UNIT_MS.h === 0 && ms > 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0 && ms > 0) return `${ms / UNIT_MS.m}m`;
  return `${Math.round(ms / UNIT_MS.s)}s`;
}
