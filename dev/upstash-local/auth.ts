import { createHash, timingSafeEqual } from 'node:crypto';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Compares two secrets in constant time; hashing first hides the expected token's length too. */
export function tokensMatch(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}

/**
 * True when the request carries the endpoint's token, as Upstash accepts it: an `Authorization: Bearer <token>`
 * header, or else a `_token` query parameter.
 */
export function isAuthorized(authorization: string | undefined, queryToken: string | null, expected: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = match?.[1] ?? queryToken;
  if (presented === null || presented === undefined || presented === '') return false;
  return tokensMatch(presented, expected);
}
