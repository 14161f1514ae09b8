/** Something started that must be stopped: every started thing in this repository has this shape. */
export interface Closeable {
  close(): Promise<void>;
}

/**
 * Runs every close step in order, even when one fails, then throws the failures together (or resolves). A shutdown
 * must never leave the later resources open because an earlier one could not close.
 */
export async function closeAll(steps: readonly (readonly [name: string, close: () => Promise<void>])[]): Promise<void> {
  const failures: Error[] = [];
  for (const [name, close] of steps) {
    try {
      await close();
    } catch (error) {
      failures.push(new Error(`closing ${name} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error }));
    }
  }
  if (failures.length === 1 && failures[0] !== undefined) throw failures[0];
  if (failures.length > 1) throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
}

/** Collects close steps as things start, and closes them newest first (what started last depends on what came first). */
export class CloseStack implements Closeable {
  readonly #steps: (readonly [string, () => Promise<void>])[] = [];

  /** Registers `thing` to be closed; returns it. */
  add<T>(name: string, thing: T, close: (thing: T) => Promise<void>): T {
    this.#steps.push([name, () => close(thing)]);
    return thing;
  }

  /** Closes everything registered, newest first, each step whatever the others did. */
  async close(): Promise<void> {
    await closeAll(this.#steps.splice(0).reverse());
  }
}
