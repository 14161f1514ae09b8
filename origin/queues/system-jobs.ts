import { DelayedError, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { JUDGE_TICK, runJudgeTick } from '../judge/judge-tick.js';
import type { JudgeTickDeps } from '../judge/judge-tick.js';
import type { JudgeRecord } from '../../core/judge/judge-record.js';
import type { Logger } from '../logger.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import { SYSTEM_JOB_QUEUE } from './queue-names.js';

/** How long a tick a canary app handed back waits before a consumer takes it again. */
const TICK_HAND_BACK_MS = 50;
/** How long a canary app then stops taking system jobs, so a primary app is the one that takes the tick. */
const CANARY_STEP_ASIDE_MS = 1_000;

/** Name (and scheduler id) of the repeatable purge of old runs. */
export const PURGE_OLD_RUNS = 'purge-old-runs';

export interface SystemJobsOptions {
  connection: Redis;
  repo: FlowRunRepository;
  intervalMs: number;
  retentionDays: number;
  /** The judge's collaborators; its interval is `judge.settings.intervalSeconds`. */
  judge: JudgeTickDeps;
  /**
   * What else runs on the judge's tick, after it, with its record (the release plan, the notification outbox). A
   * failure is logged and does not fail the tick: the next tick runs it again.
   */
  afterJudge?: readonly { name: string; run(record: JudgeRecord): Promise<unknown> }[];
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
 * scheduled by every app, the judge's tick by primary apps only. A scheduler is an upsert under a fixed id (one
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
  // Every primary app registers the judge: one schedule under a fixed id (with a primary's settings), each tick run by
  // exactly one primary app.
  if (!options.isCanaryApp) {
    await queue.upsertJobScheduler(JUDGE_TICK, { every: options.judge.settings.intervalSeconds * 1000 }, {
      name: JUDGE_TICK,
      opts: { removeOnComplete: { age: 3600, count: 1000 }, removeOnFail: { age: 24 * 3600 } },
    });
  }
  const worker = new Worker(
    SYSTEM_JOB_QUEUE,
    async (job, token) => {
      if (job.name === JUDGE_TICK) {
        if (options.isCanaryApp) {
          // Handed back, not run: it waits a moment in the delayed set, while this app steps aside for a second so a
          // primary app is the one that takes it (the tick's window is judged when it runs). A canary build never
          // judges itself.
          logger.info('tick handed back: this app runs the canary build', { jobId: job.id, name: job.name });
          await job.moveToDelayed(Date.now() + TICK_HAND_BACK_MS, token);
          stepAside();
          throw new DelayedError();
        }
        const record = await runJudgeTick(options.judge, { jobId: job.id });
        for (const step of options.afterJudge ?? []) {
          try {
            await step.run(record);
          } catch (error) {
            logger.error(`the ${step.name} step of the tick failed; the next tick runs it again`, { jobId: job.id, error });
          }
        }
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
  let stepAsideTimer: NodeJS.Timeout | undefined;
  function stepAside(): void {
    if (stepAsideTimer !== undefined) return;
    worker.pause(true).catch((error: unknown) => logger.warn('could not step aside from system jobs', { error }));
    stepAsideTimer = setTimeout(() => {
      stepAsideTimer = undefined;
      if (!closing) worker.resume();
    }, CANARY_STEP_ASIDE_MS);
  }
  let closing = false;
  return {
    async close() {
      closing = true;
      clearTimeout(stepAsideTimer);
      await worker.close();
      await queue.close();
    },
  };
}
