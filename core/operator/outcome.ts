/**
 * What an operator command did, typed: the admin API renders it as JSON with a status, the admin page as a message on
 * the page. Every front end therefore says the same thing about the same outcome.
 */
export type Outcome<T> =
  | { kind: 'ok'; value: T }
  /** The input broke a rule (core/operator/inputs.ts); nothing was asked of the stores. */
  | { kind: 'invalid'; message: string }
  /** No such platform (or plan: `code` says which); nothing was changed. */
  | { kind: 'not_found'; message: string; code?: 'platform_not_found' | 'plan_not_found' }
  /** The state does not allow it (another plan is active, no approval is pending...); nothing was changed. */
  | { kind: 'conflict'; code: string; message: string }
  /** Postgres could not be reached (`applied: 'no'`) or did not answer in time (`applied: 'unknown'`). */
  | { kind: 'store_unavailable'; applied: 'no' | 'unknown' | 'read'; message: string }
  /** The change is committed, but Redis did not take the invalidation: edges may route the old way for up to 60 s. */
  | { kind: 'cache_not_invalidated'; message: string };

/** The outcomes that are not `ok`. */
export type Refusal = Exclude<Outcome<never>, { kind: 'ok' }>;

export const MESSAGES = {
  notFound: (platformId: string) => `Platform ${platformId} does not exist: nothing was changed.`,
  unknownPlatform: (platformId: string) => `Platform ${platformId} does not exist.`,
  notInvalidated: (what: string) =>
    `${what} is saved, but the routing cache could not be reset, so edges may keep the old routing for up to 60 s. Repeat the same change (repeating is safe).`,
  storeOutcomeUnknown:
    'The database did not answer in time: the change may or may not have been applied (the routing cache was reset to follow the database either way). Check the audit log, then repeat the same change; it is idempotent.',
  storeNotApplied: 'The database is unavailable; the change was not applied. Repeat the same change in a moment.',
  storeRead: 'The database is unavailable, so the state cannot be read. Retry in a moment.',
} as const;

/** `ok` with a value. */
export function ok<T>(value: T): Outcome<T> {
  return { kind: 'ok', value };
}
