import { Worker } from 'bullmq';
import { closeAll } from '../core/lifecycle/close-all.js';
import { MembershipStore } from '../core/membership/index.js';
import { mintWorkerToken } from './auth/worker-token.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createIoredisScriptRunner } from './membership/ioredis-script-runner.js';
import { createPgSqlClient } from './membership/pg-sql-client.js';
import { createFleetQueues } from './queues/fleet-queues.js';
import type { FlowRunJob } from './queues/flow-run-job.js';
import { fleetQueueName } from './queues/queue-names.js';
import { createPgPool, endPool } from './pg-pool.js';
import { PG_TIMEOUTS, closeRedis, createCacheRedis, createRedis } from './redis.js';
import { createResultPoster } from './worker/result-poster.js';
import { connectRpc } from './worker/rpc-client.js';
import { JobSignals } from './judge/job-signals.js';
import { createRunProcessor } from './worker/run-processor.js';
import type { ProcessOutcome } from './worker/run-processor.js';

/** A running worker; `close()` is the SIGTERM path. */
export interface RunningWorker {
  close(): Promise<void>;
}

/**
 * Starts the WORKER role: connects the RPC channel first (a refused worker never touches a job), then polls its
 * fleet's queue only. `onFatal` is called if the app later refuses us (e.g. it was redeployed with another version).
 */
export async function startWorker(config: Config, logger: Logger, onFatal: (error: Error) => void): Promise<RunningWorker> {
  const frontendUrl = config.frontendUrl;
  if (frontendUrl === undefined) throw new Error('AP_FRONTEND_URL is required for a worker');
  const fleetQueue = fleetQueueName(config.isCanaryWorker);
  // A fresh short-lived token for every connection attempt and every result post.
  const token = (): string => mintWorkerToken(config.workerSecret, { version: config.version, workerId: config.instanceId }, Math.floor(Date.now() / 1000));

  let worker: Worker<FlowRunJob, ProcessOutcome> | null = null;
  const rpc = await connectRpc({
    frontendUrl,
    version: config.version,
    token,
    workerId: config.instanceId,
    fleet: fleetQueue,
    logger,
    onDown: () => {
      if (worker !== null && !worker.isPaused()) void worker.pause(true);
    },
    onUp: () => worker?.resume(),
    onRefused: onFatal,
  });

  const pool = createPgPool({ connectionString: config.postgresUrl, max: 4, ...PG_TIMEOUTS }, (error) =>
    logger.error('postgres pool error', { error }),
  );
  const redis = createRedis(config.redisUrl, `${config.instanceId}:worker`, logger);
  const membershipRedis = createCacheRedis(config.redisUrl, `${config.instanceId}:membership`, logger);
  const membership = new MembershipStore({
    redis: createIoredisScriptRunner(membershipRedis),
    sql: createPgSqlClient(pool),
    onFallback: ({ stage, error }) => logger.warn('membership fallback', { stage, error }),
  });
  const queues = createFleetQueues({ connection: redis, attempts: config.jobAttempts, backoffMs: config.jobBackoffMs, logger });
  const postResult = createResultPoster({ frontendUrl, token });
  const heldClaims = new Map<string, string>();
  const jobSignals = new JobSignals({ redis: createIoredisScriptRunner(membershipRedis), side: config.isCanaryWorker ? 'canary' : 'primary', logger });
  const processor = createRunProcessor({
    fleetQueue,
    version: config.version,
    membership,
    rpc,
    queues,
    postResult,
    heldClaims,
    logger,
    recordJob: (platformId, failed, ms) => jobSignals.record(platformId, failed, ms),
  });

  const w = new Worker<FlowRunJob, ProcessOutcome>(fleetQueue, processor, {
    connection: redis,
    concurrency: config.workerConcurrency,
    lockDuration: config.workerLockDurationMs,
    stalledInterval: config.workerStalledIntervalMs,
    autorun: false,
  });
  worker = w;
  w.on('error', (error) => logger.error('worker error', { queue: fleetQueue, error }));
  w.on('completed', (job) => heldClaims.delete(job.data.runId));
  // Final-failure reports still on their way to the app: close() waits for them before it closes the RPC channel.
  const finalReports = new Set<Promise<void>>();
  w.on('failed', (job, error) => {
    if (job === undefined || error.name === 'WaitingError') return;
    const { runId } = job.data;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1);
    const claim = heldClaims.get(runId);
    heldClaims.delete(runId);
    logger.warn('job attempt failed', { runId, attempt: job.attemptsMade, final, error });
    if (!final) return;
    // Out of retries: record the run as failed so it does not stay QUEUED or RUNNING forever. A run that failed before
    // it was ever claimed (e.g. membership unavailable on every attempt) is claimed now, as this worker holds its job.
    const result = { status: 'FAILED' as const, error: `gave up after ${job.attemptsMade} attempts: ${error.message}`, output: null };
    const settle = async (): Promise<void> => {
      let held = claim;
      if (held === undefined) {
        const reply = await rpc.claim({ runId, queue: fleetQueue, workerVersion: config.version });
        if (reply.outcome !== 'claimed') return;
        held = reply.claim;
      }
      await postResult(runId, held, result, fleetQueue);
    };
    const settling = settle().catch((e: unknown) => logger.error('could not record final failure', { runId, error: e }));
    finalReports.add(settling);
    void settling.finally(() => finalReports.delete(settling));
  });
  w.run().catch((error: unknown) => logger.error('worker stopped with error', { error }));
  logger.info('worker ready', { queue: fleetQueue, app: frontendUrl, concurrency: config.workerConcurrency });

  return {
    // Every step runs even when an earlier one fails, so a failing close never leaves later resources open.
    close: () =>
      closeAll([
        [
          'worker',
          async () => {
            const closing = w.close();
            // Jobs still running after the grace period are handed back to the queue (not lost, not left to stall).
            const grace = setTimeout(() => {
              logger.warn('shutdown grace elapsed; handing in-flight jobs back');
              w.cancelAllJobs('shutdown');
            }, config.shutdownTimeoutMs);
            try {
              await closing;
            } finally {
              clearTimeout(grace);
            }
          },
        ],
        [
          'final-failure reports',
          async () => {
            await Promise.allSettled([...finalReports]);
          },
        ],
        ['job signals', () => jobSignals.close()],
        ['fleet queues', () => queues.close()],
        ['rpc channel', () => rpc.close()],
        ['redis connections', async () => {
          await Promise.all([redis, membershipRedis].map((c) => closeRedis(c)));
        }],
        ['postgres pool', () => endPool(pool)],
      ]),
  };
}
