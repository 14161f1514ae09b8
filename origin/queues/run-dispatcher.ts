import type { MembershipStore } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';
import type { FlowRecord } from '../runs/flow-run.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import type { FleetQueues } from './fleet-queues.js';
import { FLOW_RUN_JOB_NAME } from './flow-run-job.js';
import type { JobMover } from './job-mover.js';
import { fleetQueueName } from './queue-names.js';
import type { FleetQueueName } from './queue-names.js';

export interface RunDispatcherOptions {
  membership: MembershipStore;
  repo: FlowRunRepository;
  queues: FleetQueues;
  mover: JobMover;
  logger: Logger;
}

/** Creates a run and enqueues it on its platform's fleet, decided with the same membership data as the edge. */
export class RunDispatcher {
  constructor(private readonly options: RunDispatcherOptions) {}

  /** Records and enqueues one run; returns the queue it ended on. */
  async dispatch(runId: string, flow: FlowRecord, payload: unknown): Promise<FleetQueueName> {
    const { membership, repo, queues, mover, logger } = this.options;
    const before = await membership.lookup({ kind: 'platform', platformId: flow.platformId });
    const queue = fleetQueueName(before.canary);
    await repo.insertRun({ id: runId, flowId: flow.flowId, platformId: flow.platformId, queue, payload });
    let job;
    try {
      job = await queues.get(queue).add(
        FLOW_RUN_JOB_NAME,
        { runId, flowId: flow.flowId, platformId: flow.platformId, definition: flow.definition, payload },
        { ...queues.jobOptions, jobId: runId },
      );
    } catch (error) {
      // The webhook fails and its caller retries; a row left behind would be a QUEUED run that never runs, so say so.
      await repo.deleteQueuedRun(runId).catch((cleanupError: unknown) =>
        logger.error('could not remove the run of a webhook whose job was not enqueued', { runId, error: cleanupError }),
      );
      throw error;
    }
    // A flip acknowledged between the lookup and the add may already have scanned this queue; looking again after
    // the add closes that window: either the flip's mover sees this job, or this second lookup sees the flip.
    const after = await membership.lookup({ kind: 'platform', platformId: flow.platformId });
    if (after.authority !== 'none' && after.canary !== before.canary) {
      const to = fleetQueueName(after.canary);
      await mover.moveJobs([job], to);
      logger.info('run re-routed at enqueue (flip in progress)', { runId, platformId: flow.platformId, from: queue, to });
      return to;
    }
    return queue;
  }
}
