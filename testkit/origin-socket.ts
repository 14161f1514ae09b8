import { io } from 'socket.io-client';
import type { Socket } from 'socket.io-client';

/** Payload of `flow-run-finished`. */
export interface FlowRunFinished {
  runId: string;
  flowId: string;
  platformId: string;
  status: string;
  workerVersion: string | null;
}

/** A principal's Socket.IO connection that records every `flow-run-finished` it receives. */
export interface RunEventsClient {
  socket: Socket;
  events: FlowRunFinished[];
  /** Resolves with the event of `runId` (past or future). */
  waitFor(runId: string, timeoutMs?: number): Promise<FlowRunFinished>;
  /** Resolves once `n` events have arrived. */
  waitForCount(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** Connects to an app's Socket.IO with a token; rejects with the server's reason if it is refused. */
export function connectRunEvents(url: string, token: string): Promise<RunEventsClient> {
  const socket = io(url, { auth: { token }, transports: ['websocket'], reconnection: false });
  const events: FlowRunFinished[] = [];
  const listeners = new Set<() => void>();
  socket.on('flow-run-finished', (event: FlowRunFinished) => {
    events.push(event);
    for (const l of [...listeners]) l();
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
        reject(new Error(`timed out waiting for ${what} (got ${events.length} events)`));
      }, timeoutMs);
      if (!test()) listeners.add(test);
    });
  const client: RunEventsClient = {
    socket,
    events,
    waitFor: (runId, timeoutMs = 60_000) => waitUntil(() => events.find((e) => e.runId === runId), timeoutMs, `run ${runId}`),
    waitForCount: async (n, timeoutMs = 120_000) => {
      await waitUntil(() => (events.length >= n ? true : undefined), timeoutMs, `${n} events`);
    },
    async close() {
      socket.close();
    },
  };
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(client));
    socket.once('connect_error', (error) => {
      socket.close();
      reject(error);
    });
  });
}
