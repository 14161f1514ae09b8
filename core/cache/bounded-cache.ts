/**
 * A per-isolate memo with a hard size bound: at `maxEntries`, the oldest entry makes room (insertion order), so a
 * stream of distinct keys can never grow it. Callers store only values derived from verified input.
 */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();

  constructor(readonly maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) throw new Error('BoundedCache: maxEntries must be a positive integer');
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The value stored under `key`, or undefined. */
  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  /** Stores `value`, evicting the oldest entry when full. */
  set(key: string, value: V): void {
    if (!this.#entries.has(key) && this.#entries.size >= this.maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }

  /** Forgets `key`. */
  delete(key: string): void {
    this.#entries.delete(key);
  }
}
