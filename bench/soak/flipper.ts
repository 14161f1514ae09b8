import type { MembershipLedger } from './ledger.js';

export interface FlipperOptions {
  /** POSTs the admin flip and resolves with the HTTP status (0 when there was no answer). */
  flip: (platformId: string, canary: boolean) => Promise<number>;
  ledger: MembershipLedger;
  platformId: string;
  initial: boolean;
  intervalMs: number;
  /** Backoff between attempts of one flip after a 503 (the contract says: retry the same request). */
  retryMs: number;
}

export interface FlipperStats {
  /** Flips acknowledged with a 200. */
  acked: number;
  /** 503 answers (store unavailable / invalidation failed), each followed by a retry. */
  retried503: number;
  /** Answers other than 200/503, or no answer at all. */
  unexpected: number;
  /** Flips still not acknowledged when the flipper had to stop. */
  unacked: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Flips one platform every `intervalMs` through the admin route, recording each flip's window in the ledger. A flip
 * that gets a 503 is retried until it is acknowledged. `pause()` lets a drill wait for a quiet moment.
 */
export class Flipper {
  readonly stats: FlipperStats = { acked: 0, retried503: 0, unexpected: 0, unacked: 0 };
  #state: boolean;
  #paused = false;
  #idle: Promise<void> = Promise.resolve();
  #resume: (() => void) | null = null;
  #resumed: Promise<void> = Promise.resolve();

  constructor(private readonly options: FlipperOptions) {
    this.#state = options.initial;
  }

  /** Flips until `stopAt` (performance.now() time); an unacknowledged flip is retried until `giveUpAt`. */
  async run(stopAt: number, giveUpAt: number): Promise<void> {
    let dueAt = performance.now();
    for (;;) {
      // Ticks missed while paused are skipped, not made up with a burst of flips.
      dueAt = Math.max(dueAt + this.options.intervalMs, performance.now());
      if (dueAt >= stopAt) break;
      await sleep(dueAt - performance.now());
      await this.#resumed;
      if (performance.now() >= stopAt) break;
      let done: () => void = () => undefined;
      this.#idle = new Promise<void>((resolve) => {
        done = resolve;
      });
      try {
        await this.#flipOnce(giveUpAt);
      } finally {
        done();
      }
    }
  }

  async #flipOnce(giveUpAt: number): Promise<void> {
    const to = !this.#state;
    const window = this.options.ledger.begin(this.options.platformId, to, performance.now());
    while (performance.now() < giveUpAt) {
      window.attempts++;
      const status = await this.options.flip(this.options.platformId, to);
      if (status === 200) {
        this.options.ledger.ack(window, performance.now());
        this.#state = to;
        this.stats.acked++;
        return;
      }
      if (status === 503) this.stats.retried503++;
      else this.stats.unexpected++;
      await sleep(this.options.retryMs);
    }
    // The database may or may not hold the new value; the ledger keeps the window open, so either side is accepted.
    this.stats.unacked++;
  }

  /** Stops starting new flips and resolves once the flip in flight (if any) is acknowledged. */
  async pause(): Promise<void> {
    if (!this.#paused) {
      this.#paused = true;
      this.#resumed = new Promise<void>((resolve) => (this.#resume = resolve));
    }
    await this.#idle;
  }

  resume(): void {
    this.#paused = false;
    this.#resume?.();
    this.#resume = null;
  }
}
