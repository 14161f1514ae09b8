import type { Job } from 'bullmq';
import type { Logger } from '../logger.js';
import type { FlowRunRepository } from '../runs/flow-run-repository.js';
import type { FleetQueues } from './fleet-queues.js';
import { FLOW_RUN_JOB_NAME } from './flow-run-job.js';
import type { FlowRunJob } from './flow-run-job.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from './queue-names.js';
import type { FleetQueueName } from './queue-names.js';

/** How many jobs a move handled. */
export interface MoveReport {
  moved: number;
  /** Jobs whose run was claimed or finished meanwhile; their stale copy completes without running. */
  skipped: number;
}

export interface JobMoverOptions {
  queues: FleetQueues;
  repo: FlowRunRepository;
  logger: Logger;
}

const MOVABLE_STATES = ['waiting', 'delayed', 'prioritized'] as const;

function otherFleet(name: FleetQueueName): FleetQueueName {
  return name === WORKER_JOBS ? CANARY_WORKER_JOBS : WORKER_JOBS;
}

function remainingDelay(job: Job<FlowRunJob>): number | undefined {
  const due = job.timestamp + (job.delay ?? 0);
  const remaining = due - Date.now();
  return remaining > 0 ? remaining : undefined;
}

/**
 * Moves flow-run jobs between the fleets' queues: point the runs at the target queue (QUEUED runs only), add each job
 * to the target with the same id, then remove it from the source. Every step is idempotent, so a move interrupted at
 * any point is completed by simply running it again; a source copy that could not be removed (a worker took it) finds
 * its run pointed elsewhere when it claims, and completes without running.
 */
export class JobMover {
  readonly #queues: FleetQueues;
  readonly #repo: FlowRunRepository;
  readonly #logger: Logger;

  constructor(options: JobMoverOptions) {
    this.#queues = options.queues;
    this.#repo = options.repo;
    this.#logger = options.logger;
  }

  /** Moves these jobs of the source queue to `to`. */
  async moveJobs(jobs: readonly Job<FlowRunJob>[], to: FleetQueueName): Promise<MoveReport> {
    const from = otherFleet(to);
    const byId = new Map<string, Job<FlowRunJob>>();
    for (const job of jobs) if (job.id !== undefined) byId.set(job.id, job);
    const movable = new Set(await this.#repo.moveQueuedRuns([...byId.keys()], to));
    const target = this.#queues.get(to);
    const source = this.#queues.get(from);
    for (const id of movable) {
      const job = byId.get(id);
      if (job === undefined) continue;
      await target.add(FLOW_RUN_JOB_NAME, job.data, {
        ...this.#queues.jobOptions,
        jobId: id,
        delay: remainingDelay(job),
        priority: job.opts.priority,
      });
      await source.remove(id);
    }
    return { moved: movable.size, skipped: byId.size - movable.size };
  }

  /** Moves every waiting, prioritized and delayed job of `platformId` from the other fleet's queue to `to`. */
  async movePlatform(platformId: string, to: FleetQueueName): Promise<MoveReport> {
    const from = otherFleet(to);
    // The whole backlog is scanned: queues are bounded by worker throughput, and a flip is a rare, operator-driven event.
    const jobs = (await this.#queues.get(from).getJobs([...MOVABLE_STATES], 0, -1, true)) as Job<FlowRunJob>[];
    const mine = jobs.filter((job) => job.data.platformId === platformId);
    const report = await this.moveJobs(mine, to);
    this.#logger.info('platform jobs moved', { platformId, from, to, scanned: jobs.length, ...report });
    return report;
  }
}
