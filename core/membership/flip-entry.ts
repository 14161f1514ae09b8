import type { ExplicitChoice } from './effective.js';

/**
 * A change of who goes where, as the flips stream carries it to the origin apps (and as the routing cache applies it):
 * one platform's explicit choice, or a change of every platform at once (rollout, pause, resume).
 */
export type MembershipChange = { scope: 'platform'; platformId: string; choice: ExplicitChoice } | { scope: 'all' };

/** One entry of `canary-platform-flips`, decoded. */
export interface FlipEntry {
  id: string;
  change: MembershipChange;
}

/** Stream field values of a choice (`none`: the platform follows the rollout). */
export type ChoiceField = 'in' | 'out' | 'none';

/** The stream field of a choice. */
export function choiceField(choice: ExplicitChoice): ChoiceField {
  return choice === null ? 'none' : choice;
}

/** The stream fields of a change, in the order the invalidation scripts write them (`XADD ... <fields>`). */
export function changeFields(change: MembershipChange): string[] {
  return change.scope === 'all' ? ['scope', 'all'] : ['scope', 'platform', 'platformId', change.platformId, 'choice', choiceField(change.choice)];
}

/**
 * Decodes an entry's field list (`[name, value, ...]`). Entries written before the scope field existed carry
 * `platformId` ('' meant every platform) and `canary`; they decode to the same changes. Null for anything else.
 */
export function decodeFlipFields(id: string, fields: readonly unknown[]): FlipEntry | null {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) map.set(String(fields[i]), String(fields[i + 1]));
  const scope = map.get('scope');
  const platformId = map.get('platformId');
  if (scope === 'all') return { id, change: { scope: 'all' } };
  if (scope === 'platform' && platformId !== undefined && platformId !== '') {
    const choice = map.get('choice');
    return { id, change: { scope: 'platform', platformId, choice: choice === 'in' ? 'in' : choice === 'out' ? 'out' : null } };
  }
  if (scope === undefined && platformId !== undefined) {
    // The previous build's entries: the consumer decides from current membership, so the old `canary` flag is moot.
    return platformId === '' ? { id, change: { scope: 'all' } } : { id, change: { scope: 'platform', platformId, choice: null } };
  }
  return null;
}
