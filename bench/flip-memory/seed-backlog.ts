import type { Queue } from 'bullmq';
import type pg from 'pg';
import { FLOW_RUN_JOB_NAME } from '../../origin/queues/flow-run-job.js';
import type { FlowRunJob } from '../../origin/queues/flow-run-job.js';

export interface BacklogSpec {
  pool: pg.Pool;
  /** The queue the platform's jobs wait on (the flip moves them off it). */
  queue: Queue<FlowRunJob>;
  platformId: string;
  flowId: string;
  jobs: number;
  /** Length of each job's payload string (ASCII, so bytes too). */
  jobBytes: number;
  log: (line: string) => void;
}

export interface SeededBacklog {
  ids: string[];
  /** Length of one job's JSON data as BullMQ stores it (the same for every job: run ids are UUIDs). */
  dataLength: number;
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
 * and adds the jobs as delayed jobs, so they stay put until the flip moves them. The payload is one string reused.
 */
export async function seedBacklog(spec: BacklogSpec): Promise<SeededBacklog> {
  const ids = Array.from({ length: spec.jobs }, () => crypto.randomUUID());
  for (let i = 0; i < ids.length; i += ROW_CHUNK) {
    await spec.pool.query(
      `INSERT INTO flow_run (id, flow_id, platform_id, status, queue) SELECT id, $2, $3, 'QUEUED', $4 FROM unnest($1::text[]) id`,
      [ids.slice(i, i + ROW_CHUNK), spec.flowId, spec.platformId, spec.queue.name],
    );
  }
  const payload = 'x'.repeat(spec.jobBytes);
  const data = (runId: string): FlowRunJob => ({ runId, flowId: spec.flowId, platformId: spec.platformId, definition: null, payload });
  const dataLength = JSON.stringify({ ...data(ids[0] ?? crypto.randomUUID()), payload: '' }).length + spec.jobBytes;
  const batch = Math.max(1, Math.min(500, Math.floor(BULK_BYTES / Math.max(1, spec.jobBytes))));
  const step = Math.max(1, Math.ceil(spec.jobs / 10));
  let added = 0;
  let nextReport = step;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < ids.length) {
      const slice = ids.slice(next, next + batch);
      next += slice.length;
      await spec.queue.addBulk(slice.map((id) => ({ name: FLOW_RUN_JOB_NAME, data: data(id), opts: { jobId: id, delay: DELAY_MS } })));
      added += slice.length;
      if (added >= nextReport || added === ids.length) {
        spec.log(`flip memory: seeded ${added} / ${ids.length} jobs`);
        while (nextReport <= added) nextReport += step;
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  return { ids, dataLength };
}
