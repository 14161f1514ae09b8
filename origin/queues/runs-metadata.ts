import { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import type { FlowRun } from '../runs/flow-run.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import { RUNS_METADATA } from './queue-names.js';

/** A worker's report that a run finished, as carried on `runsMetadata`. */
export const RunFinishedSchema = z.object({
  runId: z.string().min(1),
  status: z.enum(['SUCCEEDED', 'FAILED']),
  result: z.unknown(),
  error: z.string().nullable(),
  workerVersion: z.string().min(1),
  queue: z.string().min(1),
  claimHash: z.string().min(1),
});

export type RunFinished = z.infer<typeof RunFinishedSchema>;

const RUN_FINISHED_JOB = 'run-finished';

/** Producer side of `runsMetadata`: one job per finished run, id derived from the run so duplicate reports collapse. */
export class RunsMetadataProducer {
  constructor(private readonly queue: Queue) {}

  /** Enqueues the status update; a second report under the same claim is dropped by BullMQ (same job id). */
  async runFinished(update: RunFinished): Promise<void> {
    await this.queue.add(RUN_FINISHED_JOB, update, {
      // Per claim: duplicates of one report collapse, while a report under a newer claim is never shadowed by an older one.
      jobId: `${update.runId}.${update.claimHash.slice(0, 16)}.finished`,
      attempts: 10,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: { age: 3600, count: 50_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  }
}

/** Opens the `runsMetadata` producer queue with an error listener. */
export function openRunsMetadataQueue(connection: Redis, logger: Logger): Queue {
  const queue = new Queue(RUNS_METADATA, { connection });
  queue.on('error', (error) => logger.error('queue error', { queue: RUNS_METADATA, error }));
  return queue;
}

export interface RunsMetadataConsumerOptions {
  connection: Redis;
  repo: FlowRunRepository;
  /** Called once per run, by whichever app recorded the outcome. */
  onRunFinished(run: FlowRun): void;
  logger: Logger;
}

/** Consumes `runsMetadata` (every app runs one; BullMQ hands each job to exactly one of them). */
export function startRunsMetadataConsumer(options: RunsMetadataConsumerOptions): Worker {
  const { repo, logger } = options;
  const worker = new Worker(
    RUNS_METADATA,
    async (job) => {
      const update = RunFinishedSchema.parse(job.data);
      const run = await repo.finishRun(update.runId, {
        status: update.status,
        result: update.result,
        error: update.error,
        workerVersion: update.workerVersion,
        queue: update.queue,
        claimHash: update.claimHash,
      });
      logger.info('runs-metadata job processed', { jobId: job.id, runId: update.runId, applied: run !== null });
      if (run !== null) options.onRunFinished(run);
    },
    { connection: options.connection, concurrency: 10 },
  );
  worker.on('error', (error) => logger.error('worker error', { queue: RUNS_METADATA, error }));
  worker.on('failed', (job, error) => logger.warn('runs-metadata job failed', { jobId: job?.id, error }));
  return worker;
}
