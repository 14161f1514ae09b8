import type { LookupOptions } from '../../core/membership/index.js';
import { describeStoreError } from '../../core/log/redact.js';
import type { Candidate } from '../resolve/resolve-platform.js';
import type { MembershipLookup } from '../types.js';
import type { LookupResult } from './decide-route.js';

/** Asks the cohort for each candidate in order until one names a platform (normally the first: one round trip). */
export async function lookupCandidates(candidates: readonly Candidate[], membership: MembershipLookup, options: LookupOptions): Promise<LookupResult | null> {
  let last: LookupResult | null = null;
  for (const candidate of candidates) {
    const answer = await membership.lookup(candidate.ref, options);
    last = { candidate, answer };
    // Stop at a platform, and also when the stores are down or the read was refused: the next would fare the same.
    if (answer.platformId !== null || answer.authority === 'none' || answer.authority === 'refused') break;
  }
  return last;
}

/**
 * Admits a Postgres read for an id the cache does not know, within the client's budget (Workers Rate Limiting, one
 * counter per client IP). A limiter that fails admits: the budget protects the database, it must not block routing.
 */
export function unknownIdAdmission(limiter: RateLimit, clientKey: string, onFailure: (message: string) => void): () => Promise<boolean> {
  return async () => {
    try {
      return (await limiter.limit({ key: clientKey })).success;
    } catch (error) {
      onFailure(`unknown-id limiter failed, read admitted: ${describeStoreError(error)}`);
      return true;
    }
  };
}
