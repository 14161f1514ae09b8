/**
 * A store (Redis or Postgres) could not be reached or did not answer in time. Store adapters throw only this, so
 * callers can tell an outage they should report as 503 from a bug that must surface as 500.
 */
export class StoreError extends Error {
  /** `unknown`: the call timed out, so a write may or may not have been committed. */
  readonly outcome: 'not-applied' | 'unknown';

  constructor(
    readonly store: 'redis' | 'postgres',
    options: { cause: unknown; outcome?: 'not-applied' | 'unknown' },
  ) {
    super(`${store} unavailable`, { cause: options.cause });
    this.name = 'StoreError';
    this.outcome = options.outcome ?? 'not-applied';
  }
}

// SQLSTATE classes that mean "the server could not serve this now": connection exception, insufficient resources,
// operator intervention (shutdown, query cancelled by a timeout), system error. Any other SQLSTATE (an undefined
// table, a syntax or constraint error) is a bug or bad data: reporting it as an outage would hide it.
const UNAVAILABLE_SQLSTATE_CLASSES = new Set(['08', '53', '57', '58']);

/** True for an error Postgres answered with a SQLSTATE that is not about availability. */
export function isQueryError(error: unknown): boolean {
  const code: unknown = typeof error === 'object' && error !== null ? Reflect.get(error, 'code') : undefined;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !UNAVAILABLE_SQLSTATE_CLASSES.has(code.slice(0, 2));
}

/**
 * Runs a store call, turning what the client throws into a StoreError that keeps it as the cause. A Postgres query
 * error (a SQLSTATE outside the availability classes) passes through unchanged, to surface as the bug it is.
 */
export async function storeCall<T>(store: StoreError['store'], call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof StoreError || (store === 'postgres' && isQueryError(error))) throw error;
    throw new StoreError(store, { cause: error });
  }
}
