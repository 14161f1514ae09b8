/** Thrown by `RunWaiter.wait` when the run did not finish in time. */
export class RunWaitTimeout extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} did not finish in time`);
    this.name = 'RunWaitTimeout';
  }
}

/**
 * Lets a `/sync` request wait for its run. Register (via `wait`) before enqueuing, so a fast run cannot finish
 * unnoticed; `notify` is fed by every app's "run finished" broadcast, since another app may record the outcome.
 */
export class RunWaiter {
  readonly #waiting = new Map<string, Set<() => void>>();

  /** Resolves when `notify(runId)` is called, rejects with RunWaitTimeout after `timeoutMs`. */
  wait(runId: string, timeoutMs: number): { promise: Promise<void>; cancel(): void } {
    const set = this.#waiting.get(runId) ?? new Set<() => void>();
    this.#waiting.set(runId, set);
    let cleanup = (): void => undefined;
    const promise = new Promise<void>((resolve, reject) => {
      const onNotify = (): void => {
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new RunWaitTimeout(runId));
      }, timeoutMs);
      cleanup = () => {
        clearTimeout(timer);
        set.delete(onNotify);
        if (set.size === 0 && this.#waiting.get(runId) === set) this.#waiting.delete(runId);
      };
      set.add(onNotify);
    });
    return { promise, cancel: () => cleanup() };
  }

  /** Wakes every waiter of this run (no-op when none waits here). */
  notify(runId: string): void {
    const set = this.#waiting.get(runId);
    if (set === undefined) return;
    for (const fn of [...set]) fn();
  }
}
