import { SignalBatch } from '../../core/judge/signal-batch.js';
import type { SignalCell, SignalSide } from '../../core/judge/signal-batch.js';

/** How often an isolate sends its counts: at most once per this many milliseconds. */
export const FLUSH_INTERVAL_MS = 1_000;

/** A scheduled flush that has not run after this long is presumed lost (its request context was cancelled). */
const LOST_FLUSH_MS = 30_000;

/**
 * Per-isolate request signals for the judge — per minute, per origin, per platform: requests, server errors, time to
 * response headers — sent at most once per second, off the request's critical path: the first count after a flush
 * schedules the next one (the caller runs it under `waitUntil`), so no count waits more than about a second for the
 * next request to carry it. Counts of an isolate that is evicted in between are lost; the judge judges minutes of
 * traffic, where that does not matter.
 */
export class HealthCounter {
  readonly #batch = new SignalBatch();
  readonly #flushIntervalMs: number;
  #lastFlush = 0;
  #scheduledAt: number | null = null;

  /** `flushIntervalMs`: at most one flush per this many ms (FLUSH_INTERVAL_MS; unit tests flush at once). */
  constructor(options: { flushIntervalMs?: number } = {}) {
    this.#flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  }

  /** Counts one request an origin answered (`error`: a 5xx it did not mark as the client's) or never answered (`error` too). */
  record(side: SignalSide, platformId: string | null, error: boolean, originMs: number, nowMs: number): void {
    this.#batch.record('requests', side, platformId, error, originMs, nowMs);
  }

  /**
   * Claims the next flush: the milliseconds to wait before calling `take`, or null when a flush is already scheduled
   * (or nothing is pending) and the caller has nothing to do.
   */
  schedule(nowMs: number): number | null {
    if (this.#batch.empty) return null;
    if (this.#scheduledAt !== null && nowMs - this.#scheduledAt < LOST_FLUSH_MS) return null;
    this.#scheduledAt = nowMs;
    return Math.max(0, this.#lastFlush + this.#flushIntervalMs - nowMs);
  }

  /** The counts to send now; forgets them and lets the next count schedule a flush. */
  take(nowMs: number): SignalCell[] {
    this.#scheduledAt = null;
    this.#lastFlush = nowMs;
    return this.#batch.take();
  }
}
