import type { Job, JobsOptions, Queue } from 'bullmq';
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
  /** Job ids read from the source queue at a time; payloads are read and moved in byte-bounded batches within it. */
  pageSize?: number;
  /** Job data bytes read and held at once while moving (a single larger job goes alone); bounds memory with large jobs. */
  batchBytes?: number;
}

type Target = (job: Job<FlowRunJob>) => Promise<FleetQueueName | null>;

/** A job id with the length of its stored data. */
interface Sized {
  id: string;
  bytes: number;
}

/** A job read from the source and bound for the other fleet. */
interface Leaving extends Sized {
  job: Job<FlowRunJob>;
}

/** What one page (or one batch) of a sweep did. */
interface Tally {
  /** Jobs found when read. */
  present: number;
  moved: number;
  skipped: number;
  /** Movable jobs gone from the source before they could be added to the target (another app moved them first). */
  gone: number;
  batches: number;
}

const MOVABLE_STATES = ['waiting', 'delayed', 'prioritized'] as const;
const DEFAULT_PAGE_SIZE = 100;
const DEFAULT_BATCH_BYTES = 8 * 1024 * 1024;
// HSTRLEN through BullMQ's client interface, which declares scripts but not that command; 0 means the job is gone.
const DATA_LENGTH_COMMAND = 'canaryEdgeJobDataLength';
const DATA_LENGTH_LUA = "return redis.call('HSTRLEN', KEYS[1], 'data')";
const withDataLength = new WeakSet<object>();

function otherFleet(name: FleetQueueName): FleetQueueName {
  return name === WORKER_JOBS ? CANARY_WORKER_JOBS : WORKER_JOBS;
}

function remainingDelay(job: Job<FlowRunJob>): number | undefined {
  const due = job.timestamp + (job.delay ?? 0);
  const remaining = due - Date.now();
  return remaining > 0 ? remaining : undefined;
}

function emptyTally(): Tally {
  return { present: 0, moved: 0, skipped: 0, gone: 0, batches: 0 };
}

function addTally(into: Tally, from: Tally): void {
  into.present += from.present;
  into.moved += from.moved;
  into.skipped += from.skipped;
  into.gone += from.gone;
  into.batches += from.batches;
}

/** The stored data length of each job (0 for a job that is gone), in one pipelined round trip whatever the sizes. */
async function dataLengths(queue: Queue<FlowRunJob>, ids: readonly string[]): Promise<number[]> {
  if (ids.length === 0) return [];
  const client = await queue.getBackend().client;
  if (!withDataLength.has(client)) {
    client.defineCommand(DATA_LENGTH_COMMAND, { numberOfKeys: 1, lua: DATA_LENGTH_LUA, readOnly: true });
    withDataLength.add(client);
  }
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.runCommand(DATA_LENGTH_COMMAND, [queue.toKey(id)]);
  const replies = (await pipeline.exec()) ?? [];
  return ids.map((id, i) => {
    const [error, length] = replies[i] ?? [new Error(`no reply for the data length of job ${id}`), null];
    if (error !== null) throw error;
    return typeof length === 'number' ? length : 0;
  });
}

/** The jobs from `from` on whose data fits in `room` bytes: at least one, so a job larger than the budget goes alone. */
function takeWithin(jobs: readonly Sized[], from: number, room: number): Sized[] {
  let end = from;
  for (let bytes = 0; end < jobs.length; end++) {
    const next = jobs[end]?.bytes ?? 0;
    if (end > from && bytes + next > room) break;
    bytes += next;
  }
  return jobs.slice(from, end);
}

/**
 * Moves flow-run jobs between the fleets' queues: point the runs at the target queue (QUEUED runs only), add the jobs
 * to the target with the same ids, then remove them from the source. Every step is idempotent, so a move interrupted at
 * any point is completed by simply running it again; a source copy that could not be removed (a worker took it) finds
 * its run pointed elsewhere when it claims, and completes without running. Jobs travel in batches: one repository call,
 * one pipelined add and one pipelined removal per batch, each batch bounded by its jobs' data bytes.
 */
export class JobMover {
  readonly #queues: FleetQueues;
  readonly #repo: FlowRunRepository;
  readonly #logger: Logger;
  readonly #pageSize: number;
  readonly #batchBytes: number;

  constructor(options: JobMoverOptions) {
    this.#queues = options.queues;
    this.#repo = options.repo;
    this.#logger = options.logger;
    this.#pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
    this.#batchBytes = options.batchBytes ?? DEFAULT_BATCH_BYTES;
  }

  /** Moves these jobs of the source queue to `to`. */
  async moveJobs(jobs: readonly Job<FlowRunJob>[], to: FleetQueueName): Promise<MoveReport> {
    const byId = new Map<string, Leaving>();
    for (const job of jobs) if (job.id !== undefined) byId.set(job.id, { id: job.id, job, bytes: 0 });
    const { moved, skipped } = await this.#moveBatch([...byId.values()], to, false);
    return { moved, skipped };
  }

  /**
   * Moves every waiting, prioritized and delayed job of `platformId` from the other fleet's queue to `to`, reading the
   * backlog one page at a time so memory stays bounded however many (and however large) jobs wait.
   */
  async movePlatform(platformId: string, to: FleetQueueName): Promise<MoveReport> {
    const from = otherFleet(to);
    const { report, scanned, pages, batches } = await this.#sweep(from, async (job) => (job.data.platformId === platformId ? to : null));
    this.#logger.info('platform jobs moved', { platformId, from, to, scanned, pages, batches, ...report });
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
      const { report, scanned, pages, batches } = await this.#sweep(from, async (job) => ((await wantedOnce(job.data.platformId)) === to ? to : null));
      total.moved += report.moved;
      total.skipped += report.skipped;
      this.#logger.info('fleet rebalanced', { from, to, scanned, pages, batches, platforms: memo.size, ...report });
    }
    return total;
  }

  /**
   * Pages through the ids of `from`'s movable jobs and moves those `target` sends to the other fleet. Each page is
   * finished (its leaving jobs moved) before the next is read, and moving shifts the later jobs forward, so the next
   * page starts that many earlier. A job the scan misses while workers take jobs concurrently is still safe: a worker
   * re-routes a job of the other fleet at start (see run-processor).
   *
   * The wait list is read from its head, newest first: BullMQ removes a waiting job with an LREM that scans from the
   * head, so removing jobs read oldest first (from the tail) would cost Redis a scan of the whole list per job,
   * quadratic in the backlog. Jobs arriving meanwhile push a head page later (read again, never skipped), and workers
   * take from the tail. To keep the moved jobs in their order, they are pushed onto the end of the target's list that
   * workers take from (`lifo`): page after page the oldest ends up taken first, and the moved jobs run before those
   * already waiting on the target (which mostly arrived after the flip, so waited less).
   */
  async #sweep(from: FleetQueueName, target: Target): Promise<{ report: MoveReport; scanned: number; pages: number; batches: number }> {
    const source = this.#queues.get(from);
    const total = emptyTally();
    let pages = 0;
    for (const state of MOVABLE_STATES) {
      for (let start = 0; ; ) {
        const fromList = state === 'waiting';
        const ids = await source.getRanges([state], start, start + this.#pageSize - 1, !fromList);
        pages++;
        const page = await this.#movePage(source, ids, otherFleet(from), target, fromList);
        addTally(total, page);
        // The end is a short page of ids, never a short page of jobs: jobs vanishing between the reads (workers,
        // another mover) shorten a page anywhere in the queue, and stopping there would leave the rest unmoved.
        if (ids.length < this.#pageSize) break;
        // What is still listed of this page: neither moved, nor gone (gone before the read is not present either).
        start += page.present - page.moved - page.gone;
      }
    }
    return { report: { moved: total.moved, skipped: total.skipped }, scanned: total.present, pages, batches: total.batches };
  }

  /**
   * Reads a page's jobs in concurrent chunks (their data lengths read first, in one round trip), keeps only those bound
   * for `to`, and moves them in batches. A chunk is only as large as the batch has room for, and a batch is moved
   * before the next job would overflow it, so the payloads read and held never pass `batchBytes` together (a single
   * larger job goes alone): a page of large jobs is never in memory at once. Jobs staying put are dropped as decided.
   */
  async #movePage(source: Queue<FlowRunJob>, ids: readonly string[], to: FleetQueueName, target: Target, fromList: boolean): Promise<Tally> {
    const tally = emptyTally();
    const lengths = await dataLengths(source, ids);
    // A length of 0: gone since the ids were read (another app moved it, a worker finished it): nothing to decide.
    const listed = ids.map((id, i) => ({ id, bytes: lengths[i] ?? 0 })).filter((job) => job.bytes > 0);
    let batch: Leaving[] = [];
    let batchBytes = 0;
    for (let next = 0; next < listed.length; ) {
      const chunk = takeWithin(listed, next, this.#batchBytes - batchBytes);
      next += chunk.length;
      // Concurrent reads on one connection go out as one pipeline.
      const jobs = (await Promise.all(chunk.map(({ id }) => source.getJob(id)))) as (Job<FlowRunJob> | undefined)[];
      for (const [i, job] of jobs.entries()) {
        const entry = chunk[i];
        if (job === undefined || entry === undefined) continue;
        tally.present++;
        if ((await target(job)) !== to) continue;
        batch.push({ ...entry, job });
        batchBytes += entry.bytes;
      }
      const following = listed[next];
      if (batch.length > 0 && (following === undefined || batchBytes + following.bytes > this.#batchBytes)) {
        addTally(tally, await this.#moveBatch(batch, to, fromList));
        batch = [];
        batchBytes = 0;
      }
    }
    return tally;
  }

  /**
   * Points the batch's still-QUEUED runs at `to` (one statement), adds those whose job is still on the source to `to`
   * under the same ids with what is left of their delay and their priority (one pipelined call), then removes them
   * from the source (pipelined). A job a worker took meanwhile either has a claimed run, and is left alone, or is
   * added to `to` and its stale source copy completes without running when it claims. `fromList`: the batch was read
   * newest first from the wait list, so it is pushed onto the end workers take from, which keeps its order.
   */
  async #moveBatch(batch: readonly Leaving[], to: FleetQueueName, fromList: boolean): Promise<Tally> {
    const tally: Tally = { ...emptyTally(), batches: batch.length === 0 ? 0 : 1 };
    if (batch.length === 0) return tally;
    const source = this.#queues.get(otherFleet(to));
    const movable = new Set(await this.#repo.moveQueuedRuns(batch.map((l) => l.id), to));
    const candidates = batch.filter((l) => movable.has(l.id));
    // Read again (lengths only): a job removed since it was read is another mover's, and must not come back.
    const lengths = await dataLengths(source, candidates.map((l) => l.id));
    const present = candidates.filter((_, i) => (lengths[i] ?? 0) > 0);
    tally.skipped = batch.length - candidates.length;
    tally.gone = candidates.length - present.length;
    tally.moved = present.length;
    if (present.length === 0) return tally;
    const options = (job: Job<FlowRunJob>, jobId: string): JobsOptions => ({
      ...this.#queues.jobOptions,
      jobId,
      delay: remainingDelay(job),
      priority: job.opts.priority,
      ...(fromList ? { lifo: true } : {}),
    });
    // An id already on the target (a retried move, a worker's re-route) is left as it is there: adding is a no-op.
    await this.#queues.get(to).addBulk(present.map(({ id, job }) => ({ name: FLOW_RUN_JOB_NAME, data: job.data, opts: options(job, id) })));
    await Promise.all(present.map(({ id }) => source.remove(id)));
    return tally;
  }
}
