import { percentToBasisPoints } from '../../core/rollout/bucket.js';
import type { RolloutState } from '../../core/membership/effective.js';
import { emptyChangeStats, untilAcknowledged } from './admin-change.js';
import type { AdminAnswer, ChangeStats } from './admin-change.js';
import type { MembershipLedger } from './ledger.js';
import { PausableTicker } from './pausable-ticker.js';
import type { Pausable } from './pausable-ticker.js';

/**
 * The percentages the soak rolls out, in order (starting after ROLLOUT_START_PERCENT, set before the load), then
 * again: up and down, both ends, and a two-decimal value, so raising, lowering, 0% and 100% all happen under load.
 */
export const ROLLOUT_SEQUENCE: readonly number[] = [50, 10, 75, 100, 5, 33.33, 0, 25];

/** The rollout when the load starts. */
export const ROLLOUT_START_PERCENT = 25;

/** The rollout part of an admin answer (`PUT /v1/admin/canary/rollout`, `GET` of the same). */
export function rolloutOfAnswer(body: unknown): RolloutState | null {
  if (typeof body !== 'object' || body === null) return null;
  const percent: unknown = Reflect.get(body, 'percent');
  const salt: unknown = Reflect.get(body, 'salt');
  const paused: unknown = Reflect.get(body, 'paused');
  if (typeof percent !== 'number' || typeof salt !== 'string' || typeof paused !== 'boolean') return null;
  return { basisPoints: percentToBasisPoints(percent), salt, paused };
}

export interface RolloutChangerOptions {
  /** PUTs the rollout percentage and resolves with the answer. */
  put: (percent: number) => Promise<AdminAnswer>;
  ledger: MembershipLedger;
  /** The salt the rollout had when the load started (it is generated once with the rollout record). */
  salt: string;
  intervalMs: number;
  retryMs: number;
  sequence?: readonly number[];
}

/** How the rollout changes went, plus answers whose body did not match the request (counted as unexpected). */
export interface RolloutStats extends ChangeStats {
  /** The percentages acknowledged, in order. */
  percents: number[];
}

/**
 * Sets a new rollout percentage every `intervalMs` through the admin route, cycling through a fixed sequence, and
 * records each change's window in the ledger. A 503 is retried until the change is acknowledged, like a flip.
 */
export class RolloutChanger implements Pausable {
  readonly stats: RolloutStats = { ...emptyChangeStats(), percents: [] };
  readonly #ticker: PausableTicker;
  readonly #sequence: readonly number[];
  #salt: string;
  #next = 0;

  constructor(private readonly options: RolloutChangerOptions) {
    this.#ticker = new PausableTicker(options.intervalMs);
    this.#sequence = options.sequence ?? ROLLOUT_SEQUENCE;
    this.#salt = options.salt;
  }

  /** Changes the rollout until `stopAt` (performance.now() time); an unacknowledged change is retried until `giveUpAt`. */
  run(stopAt: number, giveUpAt: number): Promise<void> {
    return this.#ticker.run(stopAt, async () => {
      const percent = this.#sequence[this.#next % this.#sequence.length] ?? 0;
      this.#next++;
      const { ledger } = this.options;
      const window = ledger.beginRollout(percentToBasisPoints(percent), this.#salt, performance.now());
      const result = await untilAcknowledged(() => this.options.put(percent), window, ledger, this.stats, {
        giveUpAt,
        retryMs: this.options.retryMs,
      });
      if (!result.acked) return;
      const answer = rolloutOfAnswer(result.body);
      // The answer must be the rollout just set, with the salt it always had: anything else is the product's fault.
      if (answer === null || answer.basisPoints !== window.basisPoints || answer.salt !== this.#salt) {
        this.stats.unexpected++;
        if (answer !== null) {
          this.#salt = answer.salt;
          window.salt = answer.salt;
        }
      }
      this.stats.percents.push(percent);
    });
  }

  /** Stops starting new changes and resolves once the change in flight (if any) is acknowledged. */
  pause(): Promise<void> {
    return this.#ticker.pause();
  }

  resume(): void {
    this.#ticker.resume();
  }
}
