import type { Redis } from 'ioredis';
import { signalKey } from '../../core/judge/evidence-keys.js';
import type { SignalFamily, SignalSide } from '../../core/judge/evidence-keys.js';
import type { ArmSignals } from '../../core/judge/judge.js';
import { mergeCounts } from '../../core/judge/signal-batch.js';
import { decodeCounts } from '../../core/judge/signal-counts.js';
import type { SignalCounts } from '../../core/judge/signal-counts.js';

/** The judge's evidence over its window: both arms by platform, and how many fields could not be read. */
export interface SignalWindow {
  canary: ArmSignals;
  baseline: ArmSignals;
  /** Fields that were not packed counts (another build's, or damaged): the judge decides nothing on such a window. */
  garbage: number;
  /** Platform-minutes read (fields), for the record and the bench. */
  fields: number;
}

/**
 * Reads every platform's counts over the last `windowSeconds` (whole minutes, the current one included): one pipelined
 * HGETALL per minute, family and side. Throws when Redis fails (the tick then decides nothing and says so).
 */
export async function readSignalWindow(redis: Redis, nowMs: number, windowSeconds: number): Promise<SignalWindow> {
  const current = Math.floor(nowMs / 60_000);
  const first = Math.floor((nowMs - windowSeconds * 1000) / 60_000);
  const cells: { family: SignalFamily; side: SignalSide }[] = [];
  const pipeline = redis.pipeline();
  for (let m = first; m <= current; m++) {
    for (const family of ['requests', 'jobs'] as const) {
      for (const side of ['primary', 'canary'] as const) {
        cells.push({ family, side });
        pipeline.hgetall(signalKey(m, family, side));
      }
    }
  }
  const replies = (await pipeline.exec()) ?? [];
  const arms: Record<SignalSide, Record<SignalFamily, Map<string, SignalCounts>>> = {
    primary: { requests: new Map(), jobs: new Map() },
    canary: { requests: new Map(), jobs: new Map() },
  };
  let garbage = 0;
  let fields = 0;
  replies.forEach(([error, value], i) => {
    if (error !== null) throw error;
    const cell = cells[i];
    if (cell === undefined || typeof value !== 'object' || value === null) return;
    for (const [platformId, packed] of Object.entries(value as Record<string, string>)) {
      fields++;
      const counts = decodeCounts(packed);
      if (counts === null) garbage++;
      else mergeCounts(arms[cell.side][cell.family], platformId, counts);
    }
  });
  return { canary: arms.canary, baseline: arms.primary, garbage, fields };
}
