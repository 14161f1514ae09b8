import { emptyChangeStats, untilAcknowledged } from './admin-change.js';
import type { AdminAnswer, ChangeStats } from './admin-change.js';
import type { MembershipLedger } from './ledger.js';
import { PausableTicker } from './pausable-ticker.js';
import type { Pausable } from './pausable-ticker.js';

export interface FlipperOptions {
  /** POSTs the admin flip (an explicit choice) and resolves with the answer. */
  flip: (platformId: string, canary: boolean) => Promise<AdminAnswer>;
  ledger: MembershipLedger;
  platformId: string;
  initial: boolean;
  intervalMs: number;
  /** Backoff between attempts of one flip after a 503 (the contract says: retry the same request). */
  retryMs: number;
}

/** How the flips went: acknowledged, 503s retried, unexpected answers, never acknowledged. */
export type FlipperStats = ChangeStats;

/**
 * Flips one platform's explicit choice every `intervalMs` through the admin route, recording each flip's window in
 * the ledger. A flip that gets a 503 is retried until it is acknowledged. `pause()` lets a drill wait for a quiet moment.
 */
export class Flipper implements Pausable {
  readonly stats: FlipperStats = emptyChangeStats();
  readonly #ticker: PausableTicker;
  #state: boolean;

  constructor(private readonly options: FlipperOptions) {
    this.#state = options.initial;
    this.#ticker = new PausableTicker(options.intervalMs);
  }

  /** Flips until `stopAt` (performance.now() time); an unacknowledged flip is retried until `giveUpAt`. */
  run(stopAt: number, giveUpAt: number): Promise<void> {
    return this.#ticker.run(stopAt, async () => {
      const to = !this.#state;
      const { ledger, platformId } = this.options;
      const window = ledger.begin(platformId, to, performance.now());
      const result = await untilAcknowledged(() => this.options.flip(platformId, to), window, ledger, this.stats, {
        giveUpAt,
        retryMs: this.options.retryMs,
      });
      if (result.acked) this.#state = to;
    });
  }

  /** Stops starting new flips and resolves once the flip in flight (if any) is acknowledged. */
  pause(): Promise<void> {
    return this.#ticker.pause();
  }

  resume(): void {
    this.#ticker.resume();
  }
}
