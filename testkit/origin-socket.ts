import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { CANARY_HELLO, CANARY_RECONNECT, FLOW_RUN_FINISHED } from '../origin/realtime/client-events.js';
import type { AppSide, CanaryHello, CanaryReconnect, FlowRunFinishedEvent } from '../origin/realtime/client-events.js';
import { compareStreamIds, parseStreamId } from '../origin/realtime/stream-id.js';

/** Payload of `flow-run-finished`. */
export type FlowRunFinished = FlowRunFinishedEvent;

/** The app a client is connected to, as its `canary:hello` said. */
export interface ConnectedApp {
  version: string;
  side: AppSide;
}

/** One `canary:reconnect` the client followed. Times are `performance.now()` of this process. */
export interface FollowedHandover {
  notice: CanaryReconnect;
  /** The app that asked it to move. */
  from: ConnectedApp | null;
  noticedAt: number;
  /** When the app it reconnected to greeted it; null while it is still reconnecting. */
  connectedAt: number | null;
  to: ConnectedApp | null;
  /** Connection attempts that failed before one got through. */
  retries: number;
}

export interface RunEventsOptions {
  /**
   * Also send the token as `authorization: Bearer …` (default true): the edge routes Socket.IO by it, so a client
   * connecting through the edge lands on its platform's side, and so does every reconnect.
   */
  authorizationHeader?: boolean;
  /** A `cookie` header to send (e.g. `ap_canary=…`, the edge's other way to route Socket.IO). */
  cookie?: string;
  /** Follow `canary:reconnect`: reconnect with `lastEventId` and be replayed what was missed (default true). */
  followHandovers?: boolean;
  /** More handshake headers (e.g. a tester's `x-canary-override`). */
  headers?: Record<string, string>;
}

/** A principal's Socket.IO connection that records every `flow-run-finished` it receives, and follows handovers. */
export interface RunEventsClient {
  socket: Socket;
  /** Events in arrival order, deduplicated by `eventId` (the contract is at least once). */
  events: FlowRunFinished[];
  /** Every delivery, duplicates included. */
  readonly deliveries: number;
  /** Deliveries dropped because their `eventId` had arrived before. */
  readonly duplicates: number;
  /** The app it is connected to; null while disconnected. */
  readonly app: ConnectedApp | null;
  /** What it passes as `lastEventId` when it reconnects. */
  readonly lastEventId: string | null;
  handovers: FollowedHandover[];
  /** Resolves with the event of `runId` (past or future). */
  waitFor(runId: string, timeoutMs?: number): Promise<FlowRunFinished>;
  /** Resolves once `n` distinct events have arrived. */
  waitForCount(n: number, timeoutMs?: number): Promise<void>;
  /** Resolves once `n` handovers were followed to the end (greeted by the app it moved to). */
  waitForHandovers(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

// A handover's reconnect may meet a transient refusal (the edge or the app busy); it is retried, not given up.
const MAX_RECONNECT_RETRIES = 50;

/** The later of two stream ids (null counts as before everything). */
function laterId(current: string | null, candidate: string): string {
  const a = parseStreamId(current);
  const b = parseStreamId(candidate);
  if (b === null) return current ?? candidate;
  return a === null || compareStreamIds(b, a) > 0 ? candidate : (current ?? candidate);
}

/**
 * Connects to Socket.IO at `url` (an app, or the edge) with a principal token; resolves once the app greeted it
 * (`canary:hello`: it joined its room), rejects with the server's reason if it is refused. On `canary:reconnect` it
 * reconnects (through `url` again, so the edge routes it anew) with `auth: { token, lastEventId }`.
 */
export function connectRunEvents(url: string, token: string, options: RunEventsOptions = {}): Promise<RunEventsClient> {
  const follow = options.followHandovers ?? true;
  const headers: Record<string, string> = {};
  if (options.authorizationHeader ?? true) headers.authorization = `Bearer ${token}`;
  if (options.cookie !== undefined) headers.cookie = options.cookie;
  Object.assign(headers, options.headers);
  let lastEventId: string | null = null;
  let app: ConnectedApp | null = null;
  let pending: FollowedHandover | null = null;
  let closed = false;
  let deliveries = 0;
  let duplicates = 0;
  const seen = new Set<string>();
  const events: FlowRunFinished[] = [];
  const handovers: FollowedHandover[] = [];
  const listeners = new Set<() => boolean>();
  const notify = (): void => {
    for (const l of [...listeners]) l();
  };

  const socket = io(url, {
    // A function: every (re)connect sends the position it has then.
    auth: (cb) => cb(lastEventId === null ? { token } : { token, lastEventId }),
    extraHeaders: headers,
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });

  socket.on(FLOW_RUN_FINISHED, (event: FlowRunFinished) => {
    deliveries += 1;
    if (event.eventId !== undefined) {
      if (seen.has(event.eventId)) {
        duplicates += 1;
        return;
      }
      seen.add(event.eventId);
      lastEventId = laterId(lastEventId, event.eventId);
    }
    events.push(event);
    notify();
  });
  socket.on(CANARY_HELLO, (hello: CanaryHello) => {
    app = { version: hello.version, side: hello.side };
    // Only while nothing arrived yet: after that, only events advance the position (a replay may still be on its way).
    if (lastEventId === null && hello.eventId !== null) lastEventId = hello.eventId;
    if (pending !== null) {
      pending.connectedAt = performance.now();
      pending.to = app;
      pending = null;
    }
    notify();
  });
  socket.on(CANARY_RECONNECT, (notice: CanaryReconnect) => {
    if (!follow || closed) return;
    pending = { notice, from: app, noticedAt: performance.now(), connectedAt: null, to: null, retries: 0 };
    handovers.push(pending);
  });
  socket.on('disconnect', () => {
    app = null;
    // The app disconnects right after its notice; any other disconnect (token expiry, app gone) is not followed.
    if (pending !== null && !closed) socket.connect();
  });
  socket.on('connect_error', () => {
    if (pending === null || closed) return;
    pending.retries += 1;
    if (pending.retries > MAX_RECONNECT_RETRIES) return;
    setTimeout(() => {
      if (!closed && !socket.connected) socket.connect();
    }, Math.min(1_000, 50 * pending.retries));
  });

  const waitUntil = <T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const test = (): boolean => {
        const value = check();
        if (value === undefined) return false;
        listeners.delete(test);
        clearTimeout(timer);
        resolve(value);
        return true;
      };
      const timer = setTimeout(() => {
        listeners.delete(test);
        reject(new Error(`timed out waiting for ${what} (got ${events.length} events, ${handovers.length} handovers)`));
      }, timeoutMs);
      if (!test()) listeners.add(test);
    });
  const client: RunEventsClient = {
    socket,
    events,
    handovers,
    get deliveries() {
      return deliveries;
    },
    get duplicates() {
      return duplicates;
    },
    get app() {
      return app;
    },
    get lastEventId() {
      return lastEventId;
    },
    waitFor: (runId, timeoutMs = 60_000) => waitUntil(() => events.find((e) => e.runId === runId), timeoutMs, `run ${runId}`),
    waitForCount: async (n, timeoutMs = 120_000) => {
      await waitUntil(() => (events.length >= n ? true : undefined), timeoutMs, `${n} events`);
    },
    waitForHandovers: async (n, timeoutMs = 60_000) => {
      await waitUntil(() => (handovers.filter((h) => h.connectedAt !== null).length >= n ? true : undefined), timeoutMs, `${n} handovers`);
    },
    async close() {
      closed = true;
      pending = null;
      socket.close();
    },
  };
  return new Promise((resolve, reject) => {
    const greeted = (): boolean => {
      if (app === null) return false;
      listeners.delete(greeted);
      socket.off('connect_error', refused);
      resolve(client);
      return true;
    };
    const refused = (error: Error): void => {
      listeners.delete(greeted);
      closed = true;
      socket.close();
      reject(error);
    };
    listeners.add(greeted);
    socket.once('connect_error', refused);
  });
}
