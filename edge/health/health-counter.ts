import type { MinuteCounts } from '../../core/health/health-window.js';

/** How often an isolate sends its counts: at most once per this many milliseconds. */
export const FLUSH_INTERVAL_MS = 1_000;

/** A scheduled flush that has not run after this long is presumed lost (its request context was cancelled). */
const LOST_FLUSH_MS = 30_000;

/**
 * Per-isolate counts of responses and errors per origin, batched by minute and sent at most once per second, off the
 * request's critical path: the first count after a flush schedules the next one (the caller runs it under
 * `waitUntil`), so no count waits more than about a second for the next request to carry it. Counts of an isolate
 * that is evicted in between are lost; the guard judges minutes of traffic, where that does not matter.
 */
export class HealthCounter {
  readonly #pending = new Map<number, MinuteCounts>();
  readonly #flushIntervalMs: number;
  #lastFlush = 0;
  #scheduledAt: number | null = null;

  /** `flushIntervalMs`: at most one flush per this many ms (FLUSH_INTERVAL_MS; unit tests flush at once). */
  constructor(options: { flushIntervalMs?: number } = {}) {
    this.#flushIntervalMs = options.flushIntervalMs ?? FLUSH_INTERVAL_MS;
  }

  /** Counts one request an origin answered (`error`: a 5xx) or never answered (`error` too). */
  record(origin: 'primary' | 'canary', error: boolean, nowMs: number): void {
    const minute = Math.floor(nowMs / 60_000);
    let counts = this.#pending.get(minute);
    if (counts === undefined) {
      counts = { minute, primary: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } };
      this.#pending.set(minute, counts);
    }
    counts[origin].requests++;
    if (error) counts[origin].errors++;
  }

  /**
   * Claims the next flush: the milliseconds to wait before calling `take`, or null when a flush is already scheduled
   * (or nothing is pending) and the caller has nothing to do.
   */
  schedule(nowMs: number): number | null {
    if (this.#pending.size === 0) return null;
    if (this.#scheduledAt !== null && nowMs - this.#scheduledAt < LOST_FLUSH_MS) return null;
    this.#scheduledAt = nowMs;
    return Math.max(0, this.#lastFlush + this.#flushIntervalMs - nowMs);
  }

  /** The counts to send now; forgets them and lets the next count schedule a flush. */
  take(nowMs: number): MinuteCounts[] {
    this.#scheduledAt = null;
    this.#lastFlush = nowMs;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    return batch;
  }
}
