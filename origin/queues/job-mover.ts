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
  /** Jobs read from the source queue at a time; with their payloads in memory, this bounds what a flip costs. */
  pageSize?: number;
}

const MOVABLE_STATES = ['waiting', 'delayed', 'prioritized'] as const;
const DEFAULT_PAGE_SIZE = 100;

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
  readonly #pageSize: number;

  constructor(options: JobMoverOptions) {
    this.#queues = options.queues;
    this.#repo = options.repo;
    this.#logger = options.logger;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  }

  /** Moves these jobs of the source queue to `to`. */
  async moveJobs(jobs: readonly Job<FlowRunJob>[], to: FleetQueueName): Promise<MoveReport> {
    const byId = new Map<string, Job<FlowRunJob>>();
    for (const job of jobs) if (job.id !== undefined) byId.set(job.id, job);
    const movable = await this.#repo.moveQueuedRuns([...byId.keys()], to);
    for (const id of movable) {
      const job = byId.get(id);
      if (job !== undefined) await this.#moveOne(job, to);
    }
    return { moved: movable.length, skipped: byId.size - movable.length };
  }

  /** Adds the job to `to` under the same id (with what is left of its delay), then removes it from the other queue. */
  async #moveOne(job: Job<FlowRunJob>, to: FleetQueueName): Promise<void> {
    const id = job.id;
    if (id === undefined) return;
    await this.#queues.get(to).add(FLOW_RUN_JOB_NAME, job.data, {
      ...this.#queues.jobOptions,
      jobId: id,
      delay: remainingDelay(job),
      priority: job.opts.priority,
    });
    await this.#queues.get(otherFleet(to)).remove(id);
  }

  /**
   * Moves every waiting, prioritized and delayed job of `platformId` from the other fleet's queue to `to`, reading the
   * backlog one page at a time so memory stays bounded however many (and however large) jobs wait.
   */
  async movePlatform(platformId: string, to: FleetQueueName): Promise<MoveReport> {
    const from = otherFleet(to);
    const { report, scanned, pages } = await this.#sweep(from, async (job) => (job.data.platformId === platformId ? to : null));
    this.#logger.info('platform jobs moved', { platformId, from, to, scanned, pages, ...report });
    return report;
  }

  /**
   * Moves every waiting job of either fleet whose platform now belongs on the other one (after a rollout change, a
   * pause or a resume, which change many platforms at once). `wanted` answers a platform's fleet, or null when it
   * cannot tell (stores down): such jobs stay, and a worker re-routes them at start.
   */
  async rebalance(wanted: (platformId: string) => Promise<FleetQueueName | null>): Promise<MoveReport> {
    const memo = new Map<string, Promise<FleetQueueName | null>>();
    const wantedOnce = (platformId: string): Promise<FleetQueueName | null> => {
      let answer = memo.get(platformId);
      if (answer === undefined) {
        answer = wanted(platformId);
        memo.set(platformId, answer);
      }
      return answer;
    };
    const total: MoveReport = { moved: 0, skipped: 0 };
    for (const from of [WORKER_JOBS, CANARY_WORKER_JOBS] as const) {
      const to = otherFleet(from);
      const { report, scanned, pages } = await this.#sweep(from, async (job) => ((await wantedOnce(job.data.platformId)) === to ? to : null));
      total.moved += report.moved;
      total.skipped += report.skipped;
      this.#logger.info('fleet rebalanced', { from, to, scanned, pages, platforms: memo.size, ...report });
    }
    return total;
  }

  /**
   * Pages through the ids of `from`'s movable jobs and moves those `target` sends to the other fleet. Jobs are read one
   * at a time and not kept: deciding drops each payload before the next is read, and each leaving job is read again to
   * move it, so memory holds one job and one page of ids however large the payloads are. Moving shifts the later jobs
   * forward, so the next page starts that many earlier. A job the scan misses while workers take jobs concurrently is
   * still safe: a worker re-routes a job of the other fleet at start (see run-processor).
   */
  async #sweep(
    from: FleetQueueName,
    target: (job: Job<FlowRunJob>) => Promise<FleetQueueName | null>,
  ): Promise<{ report: MoveReport; scanned: number; pages: number }> {
    const source = this.#queues.get(from);
    const to = otherFleet(from);
    const report: MoveReport = { moved: 0, skipped: 0 };
    let scanned = 0;
    let pages = 0;
    for (const state of MOVABLE_STATES) {
      for (let start = 0; ; ) {
        const ids = await source.getRanges([state], start, start + this.#pageSize - 1, true);
        pages++;
        let present = 0;
        const leaving: string[] = [];
        for (const id of ids) {
          // Gone since the ids were read (a worker took it, another app moved it): nothing to decide.
          const job = (await source.getJob(id)) as Job<FlowRunJob> | undefined;
          if (job === undefined) continue;
          present++;
          if ((await target(job)) === to) leaving.push(id);
        }
        scanned += present;
        const movable = leaving.length === 0 ? [] : await this.#repo.moveQueuedRuns(leaving, to);
        let moved = 0;
        let gone = 0;
        for (const id of movable) {
          const job = (await source.getJob(id)) as Job<FlowRunJob> | undefined;
          if (job === undefined) {
            gone++;
            continue;
          }
          await this.#moveOne(job, to);
          moved++;
        }
        report.moved += moved;
        report.skipped += leaving.length - movable.length;
        // The end is a short page of ids, never a short page of jobs: jobs vanishing between the two reads (workers,
        // another mover) shorten a page anywhere in the queue, and stopping there would leave the rest unmoved.
        if (ids.length < this.#pageSize) break;
        start += present - moved - gone;
      }
    }
    return { report, scanned, pages };
  }
}
