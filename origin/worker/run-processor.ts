import { WaitingError } from 'bullmq';
import type { Job } from 'bullmq';
import type { MembershipAnswer, PlatformRef } from '../../core/membership/index.js';
import { EngineAbortedError, runEngine } from '../engine/run-engine.js';
import type { Logger } from '../logger.js';
import type { FleetQueues } from '../queues/fleet-queues.js';
import { FLOW_RUN_JOB_NAME, FlowRunJobSchema } from '../queues/flow-run-job.js';
import type { FlowRunJob } from '../queues/flow-run-job.js';
import { fleetQueueName, isFleetQueueName } from '../queues/queue-names.js';
import type { FleetQueueName } from '../queues/queue-names.js';
import type { ResultPoster } from './result-poster.js';
import type { RpcClient } from './rpc-client.js';

/** What a worker did with a job (its BullMQ return value). */
export type ProcessOutcome =
  | { outcome: 'executed'; status: 'SUCCEEDED' | 'FAILED' }
  | { outcome: 'rerouted'; to: FleetQueueName }
  | { outcome: 'skipped'; reason: 'moved' | 'finished' | 'unknown' };

export interface RunProcessorDeps {
  fleetQueue: FleetQueueName;
  version: string;
  membership: { lookup(ref: PlatformRef): Promise<MembershipAnswer> };
  rpc: RpcClient;
  /** Producer handles, to put a re-routed job on the other fleet's queue. */
  queues: FleetQueues;
  postResult: ResultPoster;
  /** Claims this worker holds, by run id: the final-failure report after the last attempt needs the run's claim. */
  heldClaims: Map<string, string>;
  /** Counts each executed run for the judge (platform, failed or not, duration). */
  recordJob?(platformId: string, failed: boolean, durationMs: number): void;
  logger: Logger;
}

/**
 * The worker's job processor. Before executing it checks, at job start, that the platform still belongs to this
 * fleet (re-routing the job otherwise) and claims the run from the app (a copy of a job moved by a flip is skipped).
 */
export function createRunProcessor(deps: RunProcessorDeps) {
  const { logger } = deps;

  const putOn = async (to: FleetQueueName, job: Job<FlowRunJob>, data: FlowRunJob): Promise<void> => {
    await deps.queues.get(to).add(FLOW_RUN_JOB_NAME, data, { ...deps.queues.jobOptions, jobId: data.runId });
    logger.info('job rerouted', { runId: data.runId, from: job.queueName, to });
  };

  return async (job: Job<FlowRunJob>, token?: string, signal?: AbortSignal): Promise<ProcessOutcome> => {
    const data = FlowRunJobSchema.parse(job.data);
    const membership = await deps.membership.lookup({ kind: 'platform', platformId: data.platformId });
    // Both stores down: "not canary" is only a routing default, never a reason to move work; retry later.
    if (membership.authority === 'none') throw new Error('membership unavailable; retrying');
    const wanted = fleetQueueName(membership.canary);
    if (wanted !== deps.fleetQueue) {
      await deps.rpc.reroute({ runId: data.runId, to: wanted });
      await putOn(wanted, job, data);
      return { outcome: 'rerouted', to: wanted };
    }

    const claim = await deps.rpc.claim({ runId: data.runId, queue: deps.fleetQueue, workerVersion: deps.version });
    if (claim.outcome === 'moved') {
      // The run now belongs to another queue; make sure its job is there (a mover may have died mid-move).
      if (isFleetQueueName(claim.queue) && claim.queue !== deps.fleetQueue) await putOn(claim.queue, job, data);
      logger.info('job skipped', { runId: data.runId, reason: 'moved', to: claim.queue });
      return { outcome: 'skipped', reason: 'moved' };
    }
    if (claim.outcome !== 'claimed') {
      logger.info('job skipped', { runId: data.runId, reason: claim.outcome });
      return { outcome: 'skipped', reason: claim.outcome };
    }

    deps.heldClaims.set(data.runId, claim.claim);
    logger.info('job executing', { runId: data.runId, platformId: data.platformId, queue: deps.fleetQueue, attempt: job.attemptsMade + 1 });
    const started = performance.now();
    try {
      const result = await runEngine(data.definition, data.payload, { signal });
      deps.recordJob?.(data.platformId, result.status === 'FAILED', performance.now() - started);
      await deps.postResult(data.runId, claim.claim, result, deps.fleetQueue);
      deps.heldClaims.delete(data.runId);
      logger.info('job finished', { runId: data.runId, status: result.status });
      return { outcome: 'executed', status: result.status };
    } catch (error) {
      // Hand the run back so a flip may move it while its job waits for the retry. Best effort: if the channel is
      // down the run stays RUNNING, and the retry's claim (or the final-failure report) still settles it.
      await deps.rpc.requeue({ runId: data.runId, claim: claim.claim }).catch((requeueError: unknown) =>
        logger.warn('could not hand the run back before its retry', { runId: data.runId, error: requeueError }),
      );
      if (error instanceof EngineAbortedError && token !== undefined) {
        await job.moveToWait(token);
        logger.warn('job handed back (shutdown)', { runId: data.runId });
        throw new WaitingError();
      }
      deps.recordJob?.(data.platformId, true, performance.now() - started);
      throw error;
    }
  };
}
