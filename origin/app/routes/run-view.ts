import type { FlowRun } from '../../runs/flow-run.js';

/** The public JSON shape of a run (the contract's fields first, docs/architecture.md §1). */
export function toRunView(run: FlowRun): Record<string, unknown> {
  return {
    id: run.id,
    flowId: run.flowId,
    platformId: run.platformId,
    status: run.status,
    queue: run.queue,
    workerVersion: run.workerVersion,
    result: run.result,
    error: run.error,
    createdAt: run.createdAt,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
  };
}
