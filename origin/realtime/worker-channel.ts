import type { Server } from 'socket.io';
import { z } from 'zod';
import { checkWorker } from '../auth/worker-token.js';
import type { Logger } from '../logger.js';
import type { ClaimOutcome, FlowRunRepository } from '../runs/flow-run-repository.js';

/** Namespace of the worker RPC channel. */
export const WORKER_NAMESPACE = '/worker';

/** RPC events a worker calls (with an ack) on its app. */
export const RPC = {
  claim: 'run:claim',
  reroute: 'run:reroute',
  requeue: 'run:requeue',
} as const;

export const ClaimRequestSchema = z.object({ runId: z.string().min(1), queue: z.string().min(1), workerVersion: z.string().min(1) });
export const RerouteRequestSchema = z.object({ runId: z.string().min(1), to: z.string().min(1) });
export const RequeueRequestSchema = z.object({ runId: z.string().min(1) });

/** Reply to any RPC: the result, or an error message. */
export type RpcReply<T> = { ok: true; value: T } | { ok: false; error: string };

export interface WorkerChannelOptions {
  io: Server;
  apiKey: string;
  version: string;
  repo: FlowRunRepository;
  logger: Logger;
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
 * The `/worker` namespace: workers authenticate with a token derived from AP_API_KEY and their AP_VERSION, and only
 * workers of this app's exact version are admitted (a canary worker pointed at the primary is refused, loudly).
 */
export function attachWorkerChannel(options: WorkerChannelOptions): void {
  const { io, repo, logger } = options;
  const nsp = io.of(WORKER_NAMESPACE);

  nsp.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const failure = checkWorker(options.apiKey, options.version, auth.version, auth.token);
    if (failure === null) return next();
    if (failure.code === 'version_mismatch') {
      logger.error('refused worker: version mismatch', { appVersion: failure.appVersion, workerVersion: failure.workerVersion, address: socket.handshake.address });
      return next(Object.assign(new Error('version_mismatch'), { data: failure }));
    }
    logger.warn('refused worker: bad credentials', { address: socket.handshake.address });
    return next(Object.assign(new Error('unauthorized'), { data: failure }));
  });

  nsp.on('connection', (socket) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const workerId = typeof auth.workerId === 'string' ? auth.workerId : socket.id;
    logger.info('worker connected', { workerId, fleet: auth.fleet });
    socket.on('disconnect', (reason) => logger.info('worker disconnected', { workerId, reason }));

    socket.on(
      RPC.claim,
      handle(ClaimRequestSchema, (req): Promise<ClaimOutcome> => repo.claimRun(req.runId, req.queue, req.workerVersion), logger, RPC.claim),
    );
    socket.on(RPC.reroute, handle(RerouteRequestSchema, (req) => repo.rerouteRun(req.runId, req.to), logger, RPC.reroute));
    socket.on(RPC.requeue, handle(RequeueRequestSchema, (req) => repo.requeueRun(req.runId), logger, RPC.requeue));
  });
}
