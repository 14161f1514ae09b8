import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server } from 'socket.io';
import type { DefaultEventsMap, ServerOptions, Socket } from 'socket.io';
import { bearerToken, verifyPrincipalJwt } from '../../core/auth/principal-jwt.js';
import type { Logger } from '../logger.js';
import type { FlowRun } from '../runs/flow-run.js';
import { CANARY_HELLO, CANARY_RECONNECT, FLOW_RUN_FINISHED } from './client-events.js';
import type { AppSide, CanaryHello, FlowRunFinishedEvent } from './client-events.js';
import type { EventReplay } from './event-replay.js';
import type { LocalSockets } from './socket-handover.js';
import { parseStreamId } from './stream-id.js';

export { FLOW_RUN_FINISHED };
export type { FlowRunFinishedEvent };

const RUN_FINISHED_INTERNAL = 'run-finished';

/** What a principal's socket carries once its token is verified. */
interface PrincipalSocketData {
  platformId?: string;
  /** A tester's override placed it here (`x-canary-routed-by: override`): a move of its platform leaves it be. */
  routedByOverride?: boolean;
}

type PrincipalServer = Server<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, PrincipalSocketData>;
type PrincipalSocket = Socket<DefaultEventsMap, DefaultEventsMap, DefaultEventsMap, PrincipalSocketData>;
type HttpServer = Parameters<Server['attach']>[0];

export interface SocketServerOptions {
  httpServer: HttpServer;
  pubClient: Redis;
  subClient: Redis;
  /** Channel prefix of the redis adapter; apps that should see each other's events share it. */
  key: string;
  jwtSecret: string;
  /** This app's build and side, told to each socket in `canary:hello`. */
  version: string;
  side: AppSide;
  /** The per-platform replay streams (a reconnecting socket is replayed what it missed). */
  replay: EventReplay;
  /** Called on every app when any app records a finished run (wakes `/sync` waiters). */
  onRunFinished(runId: string): void;
  logger: Logger;
  serverOptions?: Partial<ServerOptions>;
}

/** The app's Socket.IO side: principals in platform rooms, events fanned out to every app through Redis. */
export interface RealtimeHub {
  io: PrincipalServer;
  /** Wakes `/sync` waiters (every app), appends the event to its platform's replay stream, then emits it to the platform's room. */
  publishRunFinished(run: FlowRun): Promise<void>;
  /** This app's principal sockets, for the handover. */
  localSockets: LocalSockets;
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
  const io: PrincipalServer = new Server(options.httpServer, {
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
        // Placed by a tester's override (the edge says so, and strips a client's copy): not membership's to move.
        socket.data.routedByOverride = socket.handshake.headers['x-canary-routed-by'] === 'override';
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

  io.on('connection', (socket) => {
    welcome(socket, options).catch((error: unknown) => logger.error('socket welcome failed', { error }));
  });

  io.on(RUN_FINISHED_INTERNAL, (runId: unknown) => {
    if (typeof runId === 'string') options.onRunFinished(runId);
  });

  const nsp = io.of('/');
  const localSockets: LocalSockets = {
    byPlatform(platformId) {
      const groups = new Map<string, string[]>();
      if (platformId !== undefined) {
        // The room holds this app's members only (the adapter's rooms are local).
        const ids = [...(nsp.adapter.rooms.get(platformRoom(platformId)) ?? [])].filter((id) => nsp.sockets.get(id)?.data.routedByOverride !== true);
        if (ids.length > 0) groups.set(platformId, ids);
        return groups;
      }
      for (const socket of nsp.sockets.values()) {
        const id = socket.data.platformId;
        if (id === undefined || socket.data.routedByOverride === true) continue;
        const ids = groups.get(id);
        if (ids === undefined) groups.set(id, [socket.id]);
        else ids.push(socket.id);
      }
      return groups;
    },
    handOver(socketId, notice) {
      const socket = nsp.sockets.get(socketId);
      if (socket === undefined || !socket.connected) return false;
      socket.emit(CANARY_RECONNECT, notice);
      // `true` closes the connection itself (after what was written, the notice included, is flushed): a namespace-only
      // disconnect would leave the client's next connect on this very connection, hence on this app.
      socket.disconnect(true);
      return true;
    },
  };

  return {
    io,
    localSockets,
    async publishRunFinished(run) {
      const event: FlowRunFinishedEvent = {
        runId: run.id,
        flowId: run.flowId,
        platformId: run.platformId,
        status: run.status,
        workerVersion: run.workerVersion,
      };
      // `/sync` waiters first: they do not wait for the replay write. serverSideEmit reaches the other apps only; this
      // app's waiters are woken directly.
      io.serverSideEmit(RUN_FINISHED_INTERNAL, run.id);
      options.onRunFinished(run.id);
      // Written before it is emitted: whoever misses the live event (reconnecting meanwhile) finds it in the replay.
      let eventId: string | undefined;
      try {
        eventId = await options.replay.append(event);
      } catch (error) {
        logger.error('replay append failed: event emitted without eventId (a socket reconnecting now misses it)', { runId: run.id, platformId: run.platformId, error });
      }
      io.to(platformRoom(run.platformId)).emit(FLOW_RUN_FINISHED, eventId === undefined ? event : { ...event, eventId });
    },
    close: () =>
      new Promise<void>((resolve) => {
        io.close(() => resolve());
      }),
  };
}

/**
 * Greets a socket that joined its room: `canary:hello` (this app, the replay cursor), then, when it names the last event
 * it saw (`auth.lastEventId`), what its platform's room got since. Both are read after the join, so an event is either
 * delivered live or found here (or both: the client dedupes by `eventId`).
 */
async function welcome(socket: PrincipalSocket, options: SocketServerOptions): Promise<void> {
  const { logger, replay } = options;
  const platformId = socket.data.platformId;
  if (platformId === undefined) return;
  const auth = socket.handshake.auth as Record<string, unknown>;
  const claimed = auth.lastEventId;
  const lastEventId = claimed === undefined || claimed === null ? null : parseStreamId(claimed);
  if (claimed !== undefined && claimed !== null && lastEventId === null) {
    logger.info('socket lastEventId ignored: not a stream id', { platformId });
  }
  let cursor: string | null = null;
  try {
    cursor = await replay.cursor(platformId);
  } catch (error) {
    logger.warn('replay cursor unavailable', { platformId, error });
  }
  const hello: CanaryHello = { version: options.version, side: options.side, eventId: cursor };
  socket.emit(CANARY_HELLO, hello);
  if (lastEventId === null) return;
  try {
    // The stream is the one of the platform the socket's verified token names: a client picks a position, never a stream.
    const missed = await replay.since(platformId, lastEventId);
    if (!socket.connected) return;
    for (const event of missed) socket.emit(FLOW_RUN_FINISHED, event);
    if (missed.length > 0) logger.info('socket replayed', { platformId, events: missed.length });
  } catch (error) {
    logger.error('replay failed: the socket may have missed events', { platformId, error });
  }
}
