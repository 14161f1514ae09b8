/**
 * The one platform-id rule of every host and front end: 1 to 128 characters of `A-Z a-z 0-9 _ -`. The resolver (JWT,
 * cookie, override token), the admin API, the admin page and the CLI all apply it, so an id can never break a header,
 * a cookie or a Redis key, and an id the router would never route can never be pinned.
 */
export const PLATFORM_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;

/** What the rule says, for error messages. */
export const PLATFORM_ID_RULE = 'must be 1 to 128 characters of A-Z, a-z, 0-9, _ and -';

/** True for an id the rule accepts. */
export function isPlatformId(value: unknown): value is string {
  return typeof value === 'string' && PLATFORM_ID_PATTERN.test(value);
}
