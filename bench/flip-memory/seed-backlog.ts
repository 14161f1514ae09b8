import type { Queue } from 'bullmq';
import type pg from 'pg';
import { FLOW_RUN_JOB_NAME } from '../../origin/queues/flow-run-job.js';
import type { FlowRunJob } from '../../origin/queues/flow-run-job.js';

/** A platform the backlog's jobs belong to, with the flow its runs are of. */
export interface BacklogOwner {
  platformId: string;
  flowId: string;
}

export interface BacklogSpec {
  pool: pg.Pool;
  /** The queue the jobs wait on (the flip or step moves them off it). */
  queue: Queue<FlowRunJob>;
  /** Job i belongs to `owners[i % owners.length]`; their ids must have equal lengths (see `dataLength`). */
  owners: readonly BacklogOwner[];
  jobs: number;
  /** Length of each job's payload string (ASCII, so bytes too). */
  jobBytes: number;
  /** Every `waitingEvery`-th job is added waiting instead of delayed (no worker runs, so it stays); all delayed when omitted. */
  waitingEvery?: number;
  /** Prefix of the progress lines. */
  label?: string;
  log: (line: string) => void;
}

export interface SeededBacklog {
  ids: string[];
  /** Length of one job's JSON data as BullMQ stores it (the same for every job: run ids are UUIDs, owner ids equally long). */
  dataLength: number;
  /** The ids added as delayed jobs (the others wait). */
  delayed: ReadonlySet<string>;
}

// Long enough that no job comes due during a run; no worker runs either way, so nothing would promote it.
const DELAY_MS = 24 * 3600_000;
// Bytes of job data one addBulk call serializes: BullMQ stringifies every job, so this bounds the bench's own memory.
const BULK_BYTES = 32 * 1024 * 1024;
// Two calls in flight overlap this process's JSON.stringify with Redis ingesting the previous call.
const IN_FLIGHT = 2;
const ROW_CHUNK = 5_000;

/**
 * Inserts one QUEUED `flow_run` row per job (the mover only moves jobs whose run it could point at the target queue)
 * and adds the jobs, delayed unless `waitingEvery` says otherwise, so they stay put until a move takes them. The
 * payload is one string reused.
 */
export async function seedBacklog(spec: BacklogSpec): Promise<SeededBacklog> {
  const label = spec.label ?? 'flip memory';
  const first = spec.owners[0];
  if (first === undefined) throw new Error('a backlog needs at least one owner');
  const ids = Array.from({ length: spec.jobs }, () => crypto.randomUUID());
  const ownerOf = (i: number): BacklogOwner => spec.owners[i % spec.owners.length] ?? first;
  for (let i = 0; i < ids.length; i += ROW_CHUNK) {
    const slice = ids.slice(i, i + ROW_CHUNK);
    const owners = slice.map((_, j) => ownerOf(i + j));
    await spec.pool.query(
      `INSERT INTO flow_run (id, flow_id, platform_id, status, queue)
       SELECT id, flow_id, platform_id, 'QUEUED', $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS r(id, flow_id, platform_id)`,
      [slice, owners.map((o) => o.flowId), owners.map((o) => o.platformId), spec.queue.name],
    );
  }
  const payload = 'x'.repeat(spec.jobBytes);
  const data = (runId: string, owner: BacklogOwner): FlowRunJob => ({ runId, flowId: owner.flowId, platformId: owner.platformId, definition: null, payload });
  const lengthOf = (owner: BacklogOwner): number => JSON.stringify({ ...data(crypto.randomUUID(), owner), payload: '' }).length + spec.jobBytes;
  const dataLength = lengthOf(first);
  if (spec.owners.some((o) => lengthOf(o) !== dataLength)) throw new Error('backlog owners must have platform and flow ids of equal lengths');
  const isWaiting = (i: number): boolean => spec.waitingEvery !== undefined && i % spec.waitingEvery === 0;
  const delayed = new Set(ids.filter((_, i) => !isWaiting(i)));
  const batch = Math.max(1, Math.min(500, Math.floor(BULK_BYTES / Math.max(1, spec.jobBytes))));
  const step = Math.max(1, Math.ceil(spec.jobs / 10));
  let added = 0;
  let nextReport = step;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const from = next;
      const slice = ids.slice(from, from + batch);
      next += slice.length;
      await spec.queue.addBulk(
        slice.map((id, j) => ({
          name: FLOW_RUN_JOB_NAME,
          data: data(id, ownerOf(from + j)),
          opts: isWaiting(from + j) ? { jobId: id } : { jobId: id, delay: DELAY_MS },
        })),
      );
      added += slice.length;
      if (added >= nextReport || added === ids.length) {
        spec.log(`${label}: seeded ${added} / ${ids.length} jobs`);
        while (nextReport <= added) nextReport += step;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { ids, dataLength, delayed };
}
