import { rolloutBucket } from '../rollout/bucket.js';
import type { BucketOf } from '../rollout/bucket.js';

/** A platform's explicit operator choice: pinned in, excluded, or none (it follows the rollout). */
export type ExplicitChoice = 'in' | 'out' | null;

/** Why a platform is (or is not) in the canary, per the membership rule. */
export type MembershipSource = 'paused' | 'explicit' | 'rollout' | 'default';

/** The rollout state: percentage as basis points, its salt, and the kill switch. */
export interface RolloutState {
  basisPoints: number;
  salt: string;
  paused: boolean;
}

/**
 * The effective membership rule (docs/architecture.md §7), first match wins: paused -> primary; an explicit choice;
 * the percentage rollout (bucket < basis points); otherwise primary. The one implementation every host uses.
 */
export async function effectiveMembership(
  platformId: string,
  explicit: ExplicitChoice,
  rollout: RolloutState,
  bucketOf: BucketOf = rolloutBucket,
): Promise<{ canary: boolean; source: MembershipSource }> {
  if (rollout.paused) return { canary: false, source: 'paused' };
  if (explicit !== null) return { canary: explicit === 'in', source: 'explicit' };
  // No hash when nothing is rolled out: the common case costs nothing.
  if (rollout.basisPoints > 0 && (await bucketOf(rollout.salt, platformId)) < rollout.basisPoints) {
    return { canary: true, source: 'rollout' };
  }
  return { canary: false, source: 'default' };
}
