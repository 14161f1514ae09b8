import { CloseStack } from '../../core/lifecycle/close-all.js';

/**
 * Closes everything a run started, newest first, exactly once: on normal completion, on error and on SIGINT/SIGTERM
 * (so an interrupted bench leaves no workerd, child process, database or Redis reservation behind).
 */
export class CleanupStack {
  readonly #stack = new CloseStack();
  #closing: Promise<void> | null = null;
  // Wrappers (npm, tsx) relay the signal, often as a second SIGINT or a SIGTERM: those must not interrupt the cleanup
  // either, so the handler stays installed until the cleanup is done, and a bound keeps a stuck closer from hanging.
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    if (this.#closing !== null) return;
    console.error(`\n${signal}: stopping everything this run started...`);
    const code = signal === 'SIGINT' ? 130 : 143;
    setTimeout(() => {
      console.error('cleanup did not finish within 60 s; exiting anyway');
      process.exit(code);
    }, 60_000).unref();
    void this.closeAll().finally(() => process.exit(code));
  };

  constructor() {
    process.on('SIGINT', this.#onSignal);
    process.on('SIGTERM', this.#onSignal);
  }

  /**
   * Makes this stack the only (visible) SIGINT/SIGTERM handler. Call it after starting Miniflare: its exit hook calls
   * process.exit() on those signals at once, which would cut this stack's asynchronous cleanup (dropping the database,
   * releasing the Redis reservation, closing child processes) short. Its `exit` hook stays as a last resort.
   */
  ownSignals(): void {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(signal)) if (listener !== this.#onSignal) process.off(signal, listener);
    }
  }

  /** Registers a closer and returns the value it belongs to, so starts read `const x = stack.add(await start())`. */
  add<T>(name: string, value: T, close: (value: T) => Promise<void> | void): T {
    return this.#stack.add(name, value, async (v) => {
      await close(v);
    });
  }

  /** Closes everything registered so far (newest first); a failing closer is reported and does not stop the others. */
  closeAll(): Promise<void> {
    this.#closing ??= (async () => {
      try {
        await this.#stack.close();
      } catch (error) {
        console.error(`cleanup: ${error instanceof Error ? error.message : String(error)}`);
      }
      process.off('SIGINT', this.#onSignal);
      process.off('SIGTERM', this.#onSignal);
    })();
    return this.#closing;
  }
}
