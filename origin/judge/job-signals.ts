import { SignalBatch, recordSignals } from '../../core/judge/signal-batch.js';
import type { SignalSide } from '../../core/judge/signal-batch.js';
import type { ScriptRunner } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';

/** How often a worker sends its job signals (one script call; never on a job's own path). */
const FLUSH_INTERVAL_MS = 1_000;

/**
 * A worker's job outcomes for the judge: per minute, per platform, completed or failed and how long they ran, batched
 * in memory and sent once a second, so counting costs a job nothing. `close()` sends what is left.
 */
export class JobSignals {
  readonly #batch = new SignalBatch();
  readonly #timer: NodeJS.Timeout;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: { redis: ScriptRunner; side: SignalSide; logger: Logger },
  ) {
    this.#timer = setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.#timer.unref();
  }

  /** Counts a finished run: `failed` when it ended FAILED (or the engine could not run it). */
  record(platformId: string, failed: boolean, durationMs: number): void {
    this.#batch.record('jobs', this.options.side, platformId, failed, durationMs, Date.now());
  }

  /** Sends what was counted (one at a time); a Redis failure costs those counts, never the worker. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#batch.empty) return;
      const cells = this.#batch.take();
      try {
        await recordSignals(this.options.redis, cells);
      } catch (error) {
        this.options.logger.warn('job signals not recorded (Redis)', { error });
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
