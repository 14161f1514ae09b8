import type { FlipEntry, MembershipStore } from '../../core/membership/index.js';
import type { JobMover } from './job-mover.js';
import { fleetQueueName } from './queue-names.js';

export interface FlipHandlerDeps {
  membership: Pick<MembershipStore, 'lookup'>;
  mover: Pick<JobMover, 'movePlatform' | 'rebalance'>;
}

/**
 * What an app does with an acknowledged change of who goes where: move the waiting jobs of the platforms that changed
 * side to the fleet their membership now names. The current membership decides, not the entry: entries may be
 * replayed or arrive out of order. Throws (the entry stays pending and is retried) when membership cannot be read.
 */
export function flipHandler(deps: FlipHandlerDeps): (flip: FlipEntry) => Promise<void> {
  return async (flip) => {
    const { change } = flip;
    if (change.scope === 'all') {
      // A rollout change, a pause or a resume: many platforms may have changed side.
      await deps.mover.rebalance(async (platformId) => {
        const answer = await deps.membership.lookup({ kind: 'platform', platformId });
        return answer.authority === 'none' ? null : fleetQueueName(answer.canary);
      });
      return;
    }
    const answer = await deps.membership.lookup({ kind: 'platform', platformId: change.platformId });
    if (answer.authority === 'none') throw new Error('membership unavailable; flip left pending');
    await deps.mover.movePlatform(change.platformId, fleetQueueName(answer.canary));
  };
}
