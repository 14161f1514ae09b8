import type { MinuteCounts } from '../../core/health/health-window.js';

/** How often an isolate sends its counts: at most once per this many milliseconds. */
export const FLUSH_INTERVAL_MS = 1_000;

/**
 * Per-isolate counts of responses and errors per origin, batched by minute and sent at most once per second, off the
 * request's critical path (the caller hands the flush to `waitUntil`). Counts an isolate has not sent when it is
 * evicted are lost; the guard judges minutes of traffic, where that does not matter.
 */
export class HealthCounter {
  readonly #pending = new Map<number, MinuteCounts>();
  #lastFlush = 0;

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

  /** The counts to send now (and forgets them), or null when the last flush is less than a second old. */
  takeDue(nowMs: number): MinuteCounts[] | null {
    if (this.#pending.size === 0 || nowMs - this.#lastFlush < FLUSH_INTERVAL_MS) return null;
    this.#lastFlush = nowMs;
    const batch = [...this.#pending.values()];
    this.#pending.clear();
    return batch;
  }
}
