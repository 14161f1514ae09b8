import { DelayedError, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { CANARY_GUARD, runGuardTick } from '../guard/canary-guard.js';
import type { CanaryGuardDeps } from '../guard/canary-guard.js';
import type { Logger } from '../logger.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import { SYSTEM_JOB_QUEUE } from './queue-names.js';

/** How long a tick a canary app handed back waits before a consumer takes it again. */
const TICK_HAND_BACK_MS = 200;

/** Name (and scheduler id) of the repeatable purge of old runs. */
export const PURGE_OLD_RUNS = 'purge-old-runs';

export interface SystemJobsOptions {
  connection: Redis;
  repo: FlowRunRepository;
  intervalMs: number;
  retentionDays: number;
  /** The health guard's collaborators; its interval is `guard.settings.intervalSeconds`. */
  guard: CanaryGuardDeps;
  /**
   * This app runs the canary build (AP_IS_CANARY_APP): it schedules no tick and runs none, so a canary build never
   * decides a verdict about itself; a tick BullMQ hands it goes back to the queue for a primary app.
   */
  isCanaryApp: boolean;
  logger: Logger;
}

/** The running system-job machinery of one app. */
export interface SystemJobs {
  close(): Promise<void>;
}

/**
 * Registers the repeatable system jobs and consumes `system-job-queue`. Every app consumes it (contract); the purge is
 * scheduled by every app, the guard's tick by primary apps only. A scheduler is an upsert under a fixed id (one
 * schedule however many apps), and BullMQ hands each firing to exactly one consumer.
 */
export async function startSystemJobs(options: SystemJobsOptions): Promise<SystemJobs> {
  const { logger } = options;
  const queue = new Queue(SYSTEM_JOB_QUEUE, { connection: options.connection });
  queue.on('error', (error) => logger.error('queue error', { queue: SYSTEM_JOB_QUEUE, error }));
  await queue.upsertJobScheduler(PURGE_OLD_RUNS, { every: options.intervalMs }, {
    name: PURGE_OLD_RUNS,
    opts: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
  });
  // Every primary app registers the guard: one schedule under a fixed id (with a primary's settings), each tick run by
  // exactly one primary app.
  if (!options.isCanaryApp) {
    await queue.upsertJobScheduler(CANARY_GUARD, { every: options.guard.settings.intervalSeconds * 1000 }, {
      name: CANARY_GUARD,
      opts: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
    });
  }
  const worker = new Worker(
    SYSTEM_JOB_QUEUE,
    async (job, token) => {
      if (job.name === CANARY_GUARD) {
        if (options.isCanaryApp) {
          // Handed back, not run: it waits a moment in the delayed set, then a consumer takes it again (a primary app
          // sooner or later; the tick's window is judged when it runs). A canary build never judges itself.
          logger.info('tick handed back: this app runs the canary build', { jobId: job.id, name: job.name });
          await job.moveToDelayed(Date.now() + TICK_HAND_BACK_MS, token);
          throw new DelayedError();
        }
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
