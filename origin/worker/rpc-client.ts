import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import type { Logger } from '../logger.js';
import { RPC, WORKER_SOCKET_PATH } from '../realtime/worker-channel.js';
import type { ClaimReply, RpcReply } from '../realtime/worker-channel.js';

/** The app refused this worker because their AP_VERSIONs differ: a misconfiguration, never retried. */
export class VersionMismatchError extends Error {
  constructor(readonly appVersion: string, readonly workerVersion: string) {
    super(`the app at AP_FRONTEND_URL runs version ${appVersion}, this worker runs ${workerVersion}; refusing to process jobs`);
    this.name = 'VersionMismatchError';
  }
}

/** The app refused this worker's credentials (AP_API_KEY differs). */
export class WorkerUnauthorizedError extends Error {
  constructor() {
    super('the app at AP_FRONTEND_URL refused this worker\'s credentials (check that AP_WORKER_SECRET matches the app\'s)');
    this.name = 'WorkerUnauthorizedError';
  }
}

/** The worker side of the RPC channel to its app. */
export interface RpcClient {
  claim(req: { runId: string; queue: string; workerVersion: string }): Promise<ClaimReply>;
  reroute(req: { runId: string; to: string }): Promise<boolean>;
  requeue(req: { runId: string; claim: string }): Promise<void>;
  close(): Promise<void>;
}

export interface ConnectRpcOptions {
  frontendUrl: string;
  version: string;
  /** Mints a fresh short-lived token; called for every connection attempt, reconnections included. */
  token: () => string;
  workerId: string;
  fleet: string;
  callTimeoutMs?: number;
  /** Channel lost: stop taking jobs. */
  onDown(): void;
  /** Channel back: take jobs again. */
  onUp(): void;
  /** The app refused us after having accepted us (it was redeployed with another version or key). */
  onRefused(error: Error): void;
  logger: Logger;
}

function refusal(error: Error & { data?: unknown }): Error | null {
  const data = error.data as { code?: unknown; appVersion?: unknown; workerVersion?: unknown } | undefined;
  if (error.message === 'version_mismatch' || data?.code === 'version_mismatch') {
    return new VersionMismatchError(String(data?.appVersion ?? 'another version'), String(data?.workerVersion ?? ''));
  }
  if (error.message === 'unauthorized') return new WorkerUnauthorizedError();
  return null;
}

/** Connects the authenticated RPC channel; resolves once the app accepted us, rejects if it refuses us. */
export function connectRpc(options: ConnectRpcOptions): Promise<RpcClient> {
  const { logger } = options;
  const socket: Socket = io(options.frontendUrl, {
    path: WORKER_SOCKET_PATH,
    auth: (send) => send({ token: options.token(), fleet: options.fleet }),
    transports: ['websocket'],
    reconnectionDelayMax: 5_000,
  });
  const timeoutMs = options.callTimeoutMs ?? 10_000;

  const call = async <T>(event: string, req: unknown): Promise<T> => {
    if (!socket.connected) throw new Error(`rpc channel to ${options.frontendUrl} is down`);
    const reply = (await socket.timeout(timeoutMs).emitWithAck(event, req)) as RpcReply<T>;
    if (!reply.ok) throw new Error(`rpc ${event} failed: ${reply.error}`);
    return reply.value;
  };

  const client: RpcClient = {
    claim: (req) => call<ClaimReply>(RPC.claim, req),
    reroute: (req) => call<boolean>(RPC.reroute, req),
    requeue: async (req) => {
      await call<unknown>(RPC.requeue, req);
    },
    async close() {
      socket.close();
    },
  };

  return new Promise<RpcClient>((resolve, reject) => {
    let accepted = false;
    socket.on('connect', () => {
      logger.info('rpc channel connected', { app: options.frontendUrl });
      if (!accepted) {
        accepted = true;
        resolve(client);
      } else options.onUp();
    });
    socket.on('disconnect', (reason) => {
      logger.warn('rpc channel down', { reason });
      options.onDown();
    });
    socket.on('connect_error', (error: Error & { data?: unknown }) => {
      const refused = refusal(error);
      if (refused === null) {
        // Transport errors (app not up yet, restarting): socket.io keeps retrying by itself.
        logger.warn('rpc channel connect failed, retrying', { app: options.frontendUrl, error: error.message });
        return;
      }
      socket.close();
      if (accepted) options.onRefused(refused);
      else reject(refused);
    });
  });
}
