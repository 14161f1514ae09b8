function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Something a drill can hold still for a moment: `pause()` resolves once the step in flight (if any) is done. */
export interface Pausable {
  pause(): Promise<void>;
  resume(): void;
}

/**
 * Runs a step every `intervalMs` until a stop time, one step at a time. `pause()` lets a drill wait for a quiet
 * moment (no change in flight); ticks missed while paused are skipped, not made up with a burst of steps.
 */
export class PausableTicker implements Pausable {
  #paused = false;
  #idle: Promise<void> = Promise.resolve();
  #resume: (() => void) | null = null;
  #resumed: Promise<void> = Promise.resolve();

  constructor(private readonly intervalMs: number) {}

  /** Runs `step` every interval until `stopAt` (performance.now() time); the first step is one interval in. */
  async run(stopAt: number, step: () => Promise<void>): Promise<void> {
    let dueAt = performance.now();
    for (;;) {
      dueAt = Math.max(dueAt + this.intervalMs, performance.now());
      if (dueAt >= stopAt) break;
      await sleep(dueAt - performance.now());
      await this.#resumed;
      if (performance.now() >= stopAt) break;
      let done: () => void = () => undefined;
      this.#idle = new Promise<void>((resolve) => {
        done = resolve;
      });
      try {
        await step();
      } finally {
        done();
      }
    }
  }

  /** Stops starting new steps and resolves once the step in flight (if any) is done. */
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
