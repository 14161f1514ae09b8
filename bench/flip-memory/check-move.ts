import type { JobType, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { FlowRunJob } from '../../origin/queues/flow-run-job.js';

/** Where the seeded jobs ended up, counted by job id. */
export interface MoveCheck {
  /** Seeded ids found on the target queue. */
  moved: number;
  /** Seeded ids found on neither queue. */
  lost: number;
  /** Seeded ids present more than once across both queues (in two states, or on both queues). */
  duplicated: number;
  /** Seeded ids still on the source queue. */
  leftOnSource: number;
  /** Target jobs whose stored data is not the seeded length (or whose hash is gone). */
  corrupted: number;
  /** Target jobs seeded delayed that are no longer delayed (the move must keep the remaining delay). */
  undelayed: number;
}

// Every state a job id can sit in; each is read on its own because getRanges deduplicates across the states it reads.
const STATES: readonly JobType[] = ['wait', 'delayed', 'prioritized', 'active', 'waiting-children', 'completed', 'failed'];
const PIPELINE = 1_000;

async function idsByState(queue: Queue<FlowRunJob>): Promise<Map<JobType, string[]>> {
  const byState = new Map<JobType, string[]>();
  for (const state of STATES) byState.set(state, await queue.getRanges([state], 0, -1));
  return byState;
}

function occurrences(byState: Map<JobType, string[]>, into: Map<string, number>): void {
  for (const ids of byState.values()) for (const id of ids) into.set(id, (into.get(id) ?? 0) + 1);
}

/**
 * Counts the seeded ids on both queues from the states' id lists and checks each moved job's stored data length
 * with HSTRLEN, so that verifying a 10 GiB backlog transfers ids and lengths only, never payloads.
 */
export async function checkMove(
  redis: Redis,
  source: Queue<FlowRunJob>,
  target: Queue<FlowRunJob>,
  seeded: { ids: readonly string[]; dataLength: number; delayed: ReadonlySet<string> },
): Promise<MoveCheck> {
  const onTarget = new Map<string, number>();
  const onSource = new Map<string, number>();
  const targetStates = await idsByState(target);
  occurrences(targetStates, onTarget);
  occurrences(await idsByState(source), onSource);
  const delayed = new Set(targetStates.get('delayed') ?? []);
  const check: MoveCheck = { moved: 0, lost: 0, duplicated: 0, leftOnSource: 0, corrupted: 0, undelayed: 0 };
  const present: string[] = [];
  for (const id of seeded.ids) {
    const t = onTarget.get(id) ?? 0;
    const s = onSource.get(id) ?? 0;
    if (t > 0) {
      present.push(id);
      check.moved++;
    } else if (s === 0) check.lost++;
    if (s > 0) check.leftOnSource++;
    if (t + s > 1) check.duplicated++;
    if (t > 0 && seeded.delayed.has(id) && !delayed.has(id)) check.undelayed++;
  }
  for (let i = 0; i < present.length; i += PIPELINE) {
    const pipeline = redis.pipeline();
    for (const id of present.slice(i, i + PIPELINE)) pipeline.hstrlen(target.toKey(id), 'data');
    for (const [error, length] of (await pipeline.exec()) ?? []) if (error !== null || length !== seeded.dataLength) check.corrupted++;
  }
  return check;
}
