import { randomUUID } from 'node:crypto';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { closeAll } from '../core/lifecycle/close-all.js';
import { CanaryControl, MembershipStore } from '../core/membership/index.js';
import { createApp } from './app/create-app.js';
import { RunWaiter } from './app/run-waiter.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createIoredisScriptRunner } from './membership/ioredis-script-runner.js';
import { createPgSqlClient } from './membership/pg-sql-client.js';
import { createFleetQueues } from './queues/fleet-queues.js';
import { flipHandler } from './queues/flip-handler.js';
import { FlipsConsumer } from './queues/flips-consumer.js';
import { JobMover } from './queues/job-mover.js';
import { RunDispatcher } from './queues/run-dispatcher.js';
import { RunsMetadataProducer, openRunsMetadataQueue, startRunsMetadataConsumer } from './queues/runs-metadata.js';
import { writeJudgeRecord } from '../core/judge/judge-record.js';
import { judgeSettingsOf } from './judge/judge-settings-of.js';
import { readSignalWindow } from './judge/signal-window.js';
import { startSystemJobs } from './queues/system-jobs.js';
import { PlanStore } from '../core/plans/plan-store.js';
import { runPlanTick } from './plans/plan-tick.js';
import { readTraffic } from './plans/traffic-reader.js';
import { enqueueNotifications } from './notify/notify-outbox.js';
import { startNotifyDelivery } from './notify/notify-delivery.js';
import type { SystemJobs } from './queues/system-jobs.js';
import { sideOf } from './realtime/client-events.js';
import { EventReplay } from './realtime/event-replay.js';
import { FlipsTail } from './realtime/flips-tail.js';
import { HandoverPacer } from './realtime/handover-pacer.js';
import { SocketHandover } from './realtime/socket-handover.js';
import { createSocketServer } from './realtime/socket-server.js';
import { createWorkerChannel } from './realtime/worker-channel.js';
import { createPgPool, endPool } from './pg-pool.js';
import { PG_TIMEOUTS, closeRedis, createCacheRedis, createRedis } from './redis.js';
import { FlowRunRepository } from './runs/flow-run-repository.js';

/** A running app; `close()` is the SIGTERM path. */
export interface RunningApp {
  port: number;
  close(): Promise<void>;
}

/** The app's address is taken: a configuration problem, named with the variable that fixes it. */
export class PortTakenError extends Error {
  override name = 'PortTakenError';
}

/** Serves `fetch` on AP_HOST:AP_PORT; a port another process holds rejects with a PortTakenError naming AP_PORT. */
function listen(fetch: Parameters<typeof serve>[0]['fetch'], config: Pick<Config, 'port' | 'host'>): Promise<ReturnType<typeof serve>> {
  return new Promise((resolve, reject) => {
    const server = serve({ fetch, port: config.port, hostname: config.host }, () => {
      server.off('error', onError);
      resolve(server);
    });
    const onError = (error: NodeJS.ErrnoException): void => {
      server.close();
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') {
        reject(new PortTakenError(`AP_PORT ${config.port} on ${config.host} cannot be used (${error.code}: another process holds it, or it needs privileges): set AP_PORT to a free port`));
      } else reject(error);
    };
    server.once('error', onError);
  });
}

/** Starts the APP role: HTTP + Socket.IO, the shared queue consumers and the flip mover. */
export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const pool = createPgPool({ connectionString: config.postgresUrl, max: 10, ...PG_TIMEOUTS }, (error) =>
    logger.error('postgres pool error', { error }),
  );
  const redis = createRedis(config.redisUrl, `${config.instanceId}:app`, logger);
  const pubClient = createRedis(config.redisUrl, `${config.instanceId}:io-pub`, logger);
  const subClient = createRedis(config.redisUrl, `${config.instanceId}:io-sub`, logger);

  const membershipRedis = createCacheRedis(config.redisUrl, `${config.instanceId}:membership`, logger);
  const membership = new MembershipStore({
    redis: createIoredisScriptRunner(membershipRedis),
    sql: createPgSqlClient(pool),
    onFallback: ({ stage, error }) => logger.warn('membership fallback', { stage, error }),
  });
  const repo = new FlowRunRepository(pool);
  const queues = createFleetQueues({ connection: redis, attempts: config.jobAttempts, backoffMs: config.jobBackoffMs, logger });
  const mover = new JobMover({ queues, repo, logger, pageSize: config.flipMovePageSize });
  const dispatcher = new RunDispatcher({ membership, repo, queues, mover, logger });
  const runsMetadataQueue = openRunsMetadataQueue(redis, logger);
  const runsMetadata = new RunsMetadataProducer(runsMetadataQueue);
  const waiter = new RunWaiter();

  const app = createApp({
    version: config.version,
    jwtSecret: config.jwtSecret,
    workerSecret: config.workerSecret,
    claimHolds: (runId, hash) => repo.claimHolds(runId, hash),
    webhookMaxBodyBytes: config.webhookMaxBodyBytes,
    webhookSyncTimeoutMs: config.webhookSyncTimeoutMs,
    findFlow: (flowId) => repo.findFlow(flowId),
    getRun: (runId) => repo.getRun(runId),
    saveDefinition: (flowId, platformId, definition) => repo.saveFlowDefinition(flowId, platformId, definition),
    dispatch: (runId, flow, payload) => dispatcher.dispatch(runId, flow, payload),
    runFinished: (update) => runsMetadata.runFinished(update),
    waiter,
    newRunId: () => randomUUID(),
    logger,
  });

  let server: ReturnType<typeof serve>;
  try {
    server = await listen(app.fetch, config);
  } catch (error) {
    // Nothing listens yet: close what was opened before (queues and connections), then report.
    await closeAll([
      ['runsMetadata queue', () => runsMetadataQueue.close()],
      ['fleet queues', () => queues.close()],
      ['redis connections', async () => void (await Promise.all([redis, pubClient, subClient, membershipRedis].map((c) => closeRedis(c))))],
      ['postgres pool', () => endPool(pool)],
    ]).catch((closeError: unknown) => logger.error('closing after a failed start failed', { error: closeError }));
    throw error;
  }
  const port = (server.address() as AddressInfo).port;

  // Fails fast like the membership cache: a publish must not wait on a Redis outage to emit its event.
  const replayRedis = createCacheRedis(config.redisUrl, `${config.instanceId}:replay`, logger);
  const side = sideOf(config.isCanaryApp);
  const hub = createSocketServer({
    httpServer: server,
    pubClient,
    subClient,
    key: config.socketIoRedisKey,
    jwtSecret: config.jwtSecret,
    version: config.version,
    side,
    replay: new EventReplay({ redis: replayRedis, prefix: config.socketIoRedisKey }),
    onRunFinished: (runId) => waiter.notify(runId),
    logger,
  });
  // Every app follows every change with its own sockets (the flips consumer's group gives each entry to one app).
  const handover = new SocketHandover({
    sockets: hub.localSockets,
    side,
    membership,
    pacer: new HandoverPacer({ ratePerSecond: config.socketHandoverRate }),
    logger: logger.child({ component: 'handover' }),
  });
  const flipsTail = new FlipsTail({
    connect: () => createRedis(config.redisUrl, `${config.instanceId}:flips-tail`, logger),
    onEntry: (flip) => handover.handle(flip),
    logger,
  });
  const workerChannel = createWorkerChannel({ httpServer: server, workerSecret: config.workerSecret, version: config.version, repo, logger });

  const runsMetadataConsumer = startRunsMetadataConsumer({
    connection: redis,
    repo,
    onRunFinished: (run) => void hub.publishRunFinished(run).catch((error: unknown) => logger.error('publishing a finished run failed', { runId: run.id, error })),
    logger,
  });
  const sql = createPgSqlClient(pool);
  let systemJobs: SystemJobs | undefined;
  const control = new CanaryControl({ sql, membership });
  // Notifications are queued and delivered by primary apps (a canary build runs no ticks).
  const notify =
    config.notifyUrl === undefined || config.notifySecret === undefined || config.isCanaryApp
      ? null
      : startNotifyDelivery({ connection: redis, url: config.notifyUrl, secret: config.notifySecret, logger: logger.child({ component: 'notify' }), consume: true });
  const flips = new FlipsConsumer({
    connect: () => createRedis(config.redisUrl, `${config.instanceId}:flips`, logger),
    consumer: config.instanceId,
    claimIdleMs: config.flipsClaimIdleMs,
    logger,
    handle: flipHandler({ membership, mover }),
  });

  // Stop taking requests first, then consumers, then the connections everything else used. Every step runs even when
  // an earlier one fails, so a failing close never leaves later resources open; a start that fails halfway closes
  // what it had opened.
  const close = (): Promise<void> =>
    closeAll([
      ['worker channel', () => workerChannel.close()],
      ['socket handover', async () => {
        await flipsTail.close();
        handover.close();
      }],
      [
        'http and socket.io',
        async () => {
          const closingHttp = hub.close();
          // Idle keep-alive sockets would otherwise hold server.close() open for the keep-alive timeout.
          if ('closeIdleConnections' in server) server.closeIdleConnections();
          await closingHttp;
        },
      ],
      ['flips consumer', () => flips.close()],
      ['runsMetadata consumer', () => runsMetadataConsumer.close()],
      ['system jobs', async () => {
        await systemJobs?.close();
      }],
      ['notifications', async () => {
        await notify?.close();
      }],
      ['runsMetadata queue', () => runsMetadataQueue.close()],
      ['fleet queues', () => queues.close()],
      ['redis connections', async () => {
        await Promise.all([redis, pubClient, subClient, membershipRedis, replayRedis].map((c) => closeRedis(c)));
      }],
      ['postgres pool', () => endPool(pool)],
    ]);

  try {
    systemJobs = await startSystemJobs({
      connection: redis,
      repo,
      intervalMs: config.systemJobIntervalMs,
      retentionDays: config.runRetentionDays,
      isCanaryApp: config.isCanaryApp,
      judge: {
        readWindow: (nowMs, windowSeconds) => readSignalWindow(redis, nowMs, windowSeconds),
        saveRecord: (record) => writeJudgeRecord(createIoredisScriptRunner(membershipRedis), record),
        control,
        settings: judgeSettingsOf(config),
        logger: logger.child({ component: 'judge' }),
      },
      afterJudge: [
        {
          name: 'release plan',
          run: (record) =>
            runPlanTick({ plans: new PlanStore({ sql, membership }), control, readTraffic: (nowMs) => readTraffic(redis, nowMs), logger: logger.child({ component: 'plan' }) }, record),
        },
        ...(notify === null ? [] : [{ name: 'notification outbox', run: () => enqueueNotifications({ sql, queue: notify.queue, logger }) }]),
      ],
      logger,
    });
    await flips.start();
    await flipsTail.start();
  } catch (error) {
    await close().catch((closeError: unknown) => logger.error('closing after a failed start failed', { error: closeError }));
    throw error;
  }

  logger.info('app listening', { port, version: config.version });

  return { port, close };
}
