/** Something started that must be stopped, with a name for error messages. */
interface Closer {
  name: string;
  close: () => Promise<void> | void;
}

/**
 * Closes everything a run started, newest first, exactly once: on normal completion, on error and on SIGINT/SIGTERM
 * (so an interrupted bench leaves no workerd, child process, database or Redis reservation behind).
 */
export class CleanupStack {
  readonly #closers: Closer[] = [];
  #closing: Promise<void> | null = null;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    console.error(`\n${signal}: stopping everything this run started...`);
    void this.closeAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };

  constructor() {
    process.once('SIGINT', this.#onSignal);
    process.once('SIGTERM', this.#onSignal);
  }

  /** Registers a closer and returns the value it belongs to, so starts read `const x = stack.add(await start())`. */
  add<T>(name: string, value: T, close: (value: T) => Promise<void> | void): T {
    this.#closers.push({ name, close: () => close(value) });
    return value;
  }

  /** Closes everything registered so far (newest first); a failing closer is reported and does not stop the others. */
  closeAll(): Promise<void> {
    this.#closing ??= (async () => {
      process.off('SIGINT', this.#onSignal);
      process.off('SIGTERM', this.#onSignal);
      while (this.#closers.length > 0) {
        const closer = this.#closers.pop();
        if (closer === undefined) break;
        try {
          await closer.close();
        } catch (error) {
          console.error(`cleanup: closing ${closer.name} failed:`, error instanceof Error ? error.message : error);
        }
      }
    })();
    return this.#closing;
  }
}
