/** Lifecycle of a run: QUEUED -> RUNNING -> SUCCEEDED | FAILED (RUNNING -> QUEUED when a job is handed back). */
export type RunStatus = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED';

/** A run as the API returns it. */
export interface FlowRun {
  id: string;
  flowId: string;
  platformId: string;
  status: RunStatus;
  queue: string;
  workerVersion: string | null;
  result: unknown;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** A flow with what a run needs from it. */
export interface FlowRecord {
  flowId: string;
  platformId: string;
  definition: unknown;
}
