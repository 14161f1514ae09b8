/** BullMQ queue of primary workers. Contract name (docs/architecture.md §1). */
export const WORKER_JOBS = 'workerJobs';
/** BullMQ queue of canary workers. Contract name (docs/architecture.md §1). */
export const CANARY_WORKER_JOBS = 'canaryWorkerJobs';
/** Run status updates, consumed by every app. Contract name (docs/architecture.md §1). */
export const RUNS_METADATA = 'runsMetadata';
/** Repeatable system jobs, consumed by every app. Contract name (docs/architecture.md §1). */
export const SYSTEM_JOB_QUEUE = 'system-job-queue';

/** The two worker fleets' queues. */
export type FleetQueueName = typeof WORKER_JOBS | typeof CANARY_WORKER_JOBS;

/** The queue a run belongs on, given its platform's canary membership. */
export function fleetQueueName(canary: boolean): FleetQueueName {
  return canary ? CANARY_WORKER_JOBS : WORKER_JOBS;
}

/** Narrows a queue name read from a job or a request. */
export function isFleetQueueName(name: string): name is FleetQueueName {
  return name === WORKER_JOBS || name === CANARY_WORKER_JOBS;
}

/** Notifications to CANARY_NOTIFY_URL, delivered from this queue (retried, the same id each time). */
export const NOTIFY_QUEUE = 'canary-notifications';
