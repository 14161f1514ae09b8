import { randomBytes } from 'node:crypto';
import { Server } from 'socket.io';
import { z } from 'zod';
import { checkWorkerToken, claimHash } from '../auth/worker-token.js';
import type { Logger } from '../logger.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from '../queues/queue-names.js';
import type { ClaimOutcome, FlowRunRepository } from '../runs/flow-run-repository.js';

type HttpServer = Parameters<Server['attach']>[0];

/**
 * HTTP path of the worker RPC channel: a Socket.IO server of its own, apart from the principals' `/socket.io`, so the
 * edge can refuse the whole worker plane by path (workers reach their app directly, never through the edge).
 */
export const WORKER_SOCKET_PATH = '/worker-socket.io';

/** RPC events a worker calls (with an ack) on its app. */
export const RPC = {
  claim: 'run:claim',
  reroute: 'run:reroute',
  requeue: 'run:requeue',
} as const;

export const ClaimRequestSchema = z.object({ runId: z.string().min(1), queue: z.string().min(1), workerVersion: z.string().min(1) });
/** A run can only be pointed at a queue a fleet polls: anything else would strand it. */
export const RerouteRequestSchema = z.object({ runId: z.string().min(1), to: z.enum([WORKER_JOBS, CANARY_WORKER_JOBS]) });
/** Handing a run back needs its current claim, like a result: no worker can requeue a run another one is executing. */
export const RequeueRequestSchema = z.object({ runId: z.string().min(1), claim: z.string().min(1).max(128) });

/** What a claim answers a worker: a claimed run comes with the secret its result must carry. */
export type ClaimReply = Exclude<ClaimOutcome, { outcome: 'claimed' }> | { outcome: 'claimed'; claim: string };

/** Reply to any RPC: the result, or an error message. */
export type RpcReply<T> = { ok: true; value: T } | { ok: false; error: string };

export interface WorkerChannelOptions {
  httpServer: HttpServer;
  workerSecret: string;
  version: string;
  repo: FlowRunRepository;
  logger: Logger;
}

/** The app's side of the worker RPC channel. */
export interface WorkerChannel {
  close(): Promise<void>;
}

type Ack<T> = (reply: RpcReply<T>) => void;

function handle<S extends z.ZodType, T>(schema: S, fn: (req: z.infer<S>) => Promise<T>, logger: Logger, event: string) {
  return (raw: unknown, ack: unknown): void => {
    if (typeof ack !== 'function') return;
    const reply = ack as Ack<T>;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) return reply({ ok: false, error: `invalid ${event} request` });
    fn(parsed.data).then(
      (value) => reply({ ok: true, value }),
      (error: unknown) => {
        logger.error('worker rpc failed', { event, error });
        reply({ ok: false, error: error instanceof Error ? error.message : String(error) });
      },
    );
  };
}

/**
 * The worker RPC channel: workers authenticate with a short-lived token keyed by AP_WORKER_SECRET, and only workers
 * of this app's exact version are admitted (a canary worker pointed at the primary is refused, loudly). A claim hands
 * the worker a fresh per-claim secret; only the holder of the current claim can report the run's result.
 */
export function createWorkerChannel(options: WorkerChannelOptions): WorkerChannel {
  const { repo, logger } = options;
  const io = new Server(options.httpServer, { path: WORKER_SOCKET_PATH, serveClient: false });

  io.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const check = checkWorkerToken(options.workerSecret, options.version, auth.token, Math.floor(Date.now() / 1000));
    if (check.ok) {
      socket.data.workerId = check.workerId;
      return next();
    }
    if (check.code === 'version_mismatch') {
      logger.error('refused worker: version mismatch', { appVersion: check.appVersion, workerVersion: check.workerVersion, address: socket.handshake.address });
      return next(Object.assign(new Error('version_mismatch'), { data: check }));
    }
    logger.warn('refused worker: bad credentials', { reason: check.reason, address: socket.handshake.address });
    return next(Object.assign(new Error('unauthorized'), { data: { code: check.code } }));
  });

  io.on('connection', (socket) => {
    const workerId = String(socket.data.workerId);
    const fleet = (socket.handshake.auth as Record<string, unknown>).fleet;
    logger.info('worker connected', { workerId, fleet });
    socket.on('disconnect', (reason) => logger.info('worker disconnected', { workerId, reason }));

    socket.on(
      RPC.claim,
      handle(
        ClaimRequestSchema,
        async (req): Promise<ClaimReply> => {
          const claim = randomBytes(32).toString('base64url');
          const outcome = await repo.claimRun(req.runId, req.queue, req.workerVersion, claimHash(claim));
          if (outcome.outcome !== 'claimed') return outcome;
          logger.info('run claimed', { runId: req.runId, workerId, queue: req.queue });
          return { outcome: 'claimed', claim };
        },
        logger,
        RPC.claim,
      ),
    );
    socket.on(RPC.reroute, handle(RerouteRequestSchema, (req) => repo.rerouteRun(req.runId, req.to), logger, RPC.reroute));
    socket.on(
      RPC.requeue,
      handle(
        RequeueRequestSchema,
        async (req): Promise<boolean> => {
          const requeued = await repo.requeueRun(req.runId, claimHash(req.claim));
          if (!requeued) logger.warn('refused requeue: not the current claim of a running run', { runId: req.runId, workerId });
          return requeued;
        },
        logger,
        RPC.requeue,
      ),
    );
  });

  return {
    async close() {
      // Not io.close(): that also closes the HTTP server, which the principals' Socket.IO server owns and closes.
      io.disconnectSockets(true);
      io.engine.close();
    },
  };
}
