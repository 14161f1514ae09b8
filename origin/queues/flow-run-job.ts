import { z } from 'zod';

/** Data of a `workerJobs` / `canaryWorkerJobs` job; the job id is the run id, so re-adding a run is a no-op. */
export const FlowRunJobSchema = z.object({
  runId: z.string().min(1),
  flowId: z.string().min(1),
  platformId: z.string().min(1),
  definition: z.unknown(),
  payload: z.unknown(),
});

export type FlowRunJob = z.infer<typeof FlowRunJobSchema>;

/** BullMQ job name of a flow run. */
export const FLOW_RUN_JOB_NAME = 'flow-run';
