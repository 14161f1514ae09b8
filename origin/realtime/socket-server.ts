import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { ServerOptions } from 'socket.io';
import { bearerToken, verifyPrincipalJwt } from '../../core/auth/principal-jwt.js';
import type { Logger } from '../logger.js';
import type { FlowRun } from '../runs/flow-run.js';

type HttpServer = Parameters<Server['attach']>[0];

/** Event a principal's socket receives for every finished run of its platform. */
export const FLOW_RUN_FINISHED = 'flow-run-finished';
const RUN_FINISHED_INTERNAL = 'run-finished';

/** Payload of `flow-run-finished` (a contract shape, docs/architecture.md §1). */
export interface FlowRunFinishedEvent {
  runId: string;
  flowId: string;
  platformId: string;
  status: string;
  workerVersion: string | null;
}

export interface SocketServerOptions {
  httpServer: HttpServer;
  pubClient: Redis;
  subClient: Redis;
  /** Channel prefix of the redis adapter; apps that should see each other's events share it. */
  key: string;
  jwtSecret: string;
  /** Called on every app when any app records a finished run (wakes `/sync` waiters). */
  onRunFinished(runId: string): void;
  logger: Logger;
  serverOptions?: Partial<ServerOptions>;
}

/** The app's Socket.IO side: principals in platform rooms, events fanned out to every app through Redis. */
export interface RealtimeHub {
  io: Server;
  publishRunFinished(run: FlowRun): void;
  close(): Promise<void>;
}

// setTimeout fires at once for delays above 2^31-1 ms (~24.8 days), so long waits are taken in steps.
const MAX_TIMER_MS = 2_147_483_647;

/** Runs `fn` at epoch time `atMs` (or at once if that is past); `cancel()` stops it. */
function atTime(atMs: number, fn: () => void): { cancel(): void } {
  let timer: NodeJS.Timeout;
  const arm = (): void => {
    const remaining = atMs - Date.now();
    if (remaining <= 0) return fn();
    timer = setTimeout(arm, Math.min(remaining, MAX_TIMER_MS));
    timer.unref();
  };
  arm();
  return { cancel: () => clearTimeout(timer) };
}

/** Room of one platform's principals. */
export function platformRoom(platformId: string): string {
  return `platform:${platformId}`;
}

/** Attaches Socket.IO with the redis adapter; principals authenticate with a JWT and join their platform's room. */
export function createSocketServer(options: SocketServerOptions): RealtimeHub {
  const { logger } = options;
  const io = new Server(options.httpServer, {
    serveClient: false,
    adapter: createAdapter(options.pubClient, options.subClient, { key: options.key }),
    ...options.serverOptions,
  });

  io.use((socket, next) => {
    const auth = socket.handshake.auth as Record<string, unknown>;
    const token = typeof auth.token === 'string' ? auth.token : bearerToken(socket.handshake.headers.authorization);
    const refuse = (): void => {
      logger.info('socket refused: invalid principal token', { address: socket.handshake.address });
      next(new Error('unauthorized'));
    };
    if (token === null) return refuse();
    verifyPrincipalJwt(token, options.jwtSecret, Math.floor(Date.now() / 1000)).then(
      (principal) => {
        if (principal === null) return refuse();
        socket.data.platformId = principal.platformId;
        void socket.join(platformRoom(principal.platformId));
        // The token authenticated this connection only until its exp: a connection must not outlive its credential.
        const expiry = atTime(principal.expiresAt * 1000, () => {
          logger.info('socket disconnected: principal token expired', { platformId: principal.platformId });
          socket.disconnect(true);
        });
        socket.once('disconnect', () => expiry.cancel());
        next();
      },
      () => refuse(),
    );
  });

  io.on(RUN_FINISHED_INTERNAL, (runId: unknown) => {
    if (typeof runId === 'string') options.onRunFinished(runId);
  });

  return {
    io,
    publishRunFinished(run) {
      const event: FlowRunFinishedEvent = {
        runId: run.id,
        flowId: run.flowId,
        platformId: run.platformId,
        status: run.status,
        workerVersion: run.workerVersion,
      };
      io.to(platformRoom(run.platformId)).emit(FLOW_RUN_FINISHED, event);
      // serverSideEmit reaches the other apps only; this app's waiters are woken directly.
      io.serverSideEmit(RUN_FINISHED_INTERNAL, run.id);
      options.onRunFinished(run.id);
    },
    close: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
      }),
  };
}
