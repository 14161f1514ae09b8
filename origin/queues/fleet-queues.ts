import { Queue } from 'bullmq';
import type { JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { FlowRunJob } from './flow-run-job.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from './queue-names.js';
import type { FleetQueueName } from './queue-names.js';

/** Producer handles of both fleets' queues (an app enqueues on either; a worker re-routes onto the other). */
export interface FleetQueues {
  get(name: FleetQueueName): Queue<FlowRunJob>;
  /** Options every flow-run job is added with (the caller adds `jobId` and, for moved jobs, `delay`). */
  readonly jobOptions: JobsOptions;
  close(): Promise<void>;
}

export interface FleetQueuesOptions {
  connection: Redis;
  attempts: number;
  backoffMs: number;
  logger: Logger;
}

/** Opens both fleet queues on a shared connection, each with an error listener. */
export function createFleetQueues(options: FleetQueuesOptions): FleetQueues {
  const open = (name: FleetQueueName): Queue<FlowRunJob> => {
    const queue = new Queue<FlowRunJob>(name, { connection: options.connection });
    queue.on('error', (error) => options.logger.error('queue error', { queue: name, error }));
    return queue;
  };
  const queues = { [WORKER_JOBS]: open(WORKER_JOBS), [CANARY_WORKER_JOBS]: open(CANARY_WORKER_JOBS) };
  return {
    get: (name) => queues[name],
    jobOptions: {
      attempts: options.attempts,
      backoff: { type: 'exponential', delay: options.backoffMs },
      // Finished jobs are kept for a while so that re-adding the same run id (a retried move) stays a no-op.
      removeOnComplete: { age: 24 * 3600, count: 50_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    },
    async close() {
      await Promise.all(Object.values(queues).map((q) => q.close()));
    },
  };
}
