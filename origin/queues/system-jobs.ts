import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CANARY_GUARD, runGuardTick } from '../guard/canary-guard.js';
import type { CanaryGuardDeps } from '../guard/canary-guard.js';
import type { Logger } from '../logger.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import { SYSTEM_JOB_QUEUE } from './queue-names.js';

/** Name (and scheduler id) of the repeatable purge of old runs. */
export const PURGE_OLD_RUNS = 'purge-old-runs';

export interface SystemJobsOptions {
  connection: Redis;
  repo: FlowRunRepository;
  intervalMs: number;
  retentionDays: number;
  /** The health guard's collaborators; its interval is `guard.settings.intervalSeconds`. */
  guard: CanaryGuardDeps;
  logger: Logger;
}

/** The running system-job machinery of one app. */
export interface SystemJobs {
  close(): Promise<void>;
}

/**
 * Registers the repeatable system jobs and consumes `system-job-queue`. Every app does both: the scheduler is an
 * upsert under a fixed id (one schedule however many apps), and BullMQ hands each firing to exactly one consumer.
 */
export async function startSystemJobs(options: SystemJobsOptions): Promise<SystemJobs> {
  const { logger } = options;
  const queue = new Queue(SYSTEM_JOB_QUEUE, { connection: options.connection });
  queue.on('error', (error) => logger.error('queue error', { queue: SYSTEM_JOB_QUEUE, error }));
  await queue.upsertJobScheduler(PURGE_OLD_RUNS, { every: options.intervalMs }, {
    name: PURGE_OLD_RUNS,
    opts: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
  });
  // Every app registers the guard too: one schedule under a fixed id, each tick run by exactly one app.
  await queue.upsertJobScheduler(CANARY_GUARD, { every: options.guard.settings.intervalSeconds * 1000 }, {
    name: CANARY_GUARD,
    opts: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
  });
  const worker = new Worker(
    SYSTEM_JOB_QUEUE,
    async (job) => {
      if (job.name === CANARY_GUARD) {
        await runGuardTick(options.guard, { jobId: job.id });
        return;
      }
      if (job.name !== PURGE_OLD_RUNS) {
        logger.warn('unknown system job ignored', { jobId: job.id, name: job.name });
        return;
      }
      const purged = await options.repo.purgeFinishedBefore(options.retentionDays);
      logger.info('system job processed', { jobId: job.id, name: job.name, purged });
    },
    { connection: options.connection },
  );
  worker.on('error', (error) => logger.error('worker error', { queue: SYSTEM_JOB_QUEUE, error }));
  return {
    async close() {
      await worker.close();
      await queue.close();
    },
  };
}
