import WebSocket from 'ws';

/** One node of a V8 CPU profile (Profiler.stop). */
export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

/** A V8 CPU profile. */
export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** A Chrome DevTools Protocol session over the inspector's WebSocket. */
class InspectorSession {
  readonly #ws: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; error?: { message: string } };
      if (msg.id === undefined) return;
      const waiter = this.#pending.get(msg.id);
      if (waiter === undefined) return;
      this.#pending.delete(msg.id);
      if (msg.error !== undefined) waiter.reject(new Error(msg.error.message));
      else waiter.resolve(msg.result);
    });
  }

  static async open(url: string): Promise<InspectorSession> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new InspectorSession(ws);
  }

  /** Sends one command; a command the isolate never answers fails after `timeoutMs` instead of hanging the bench. */
  send<T>(method: string, params: Record<string, unknown> = {}, timeoutMs = 60_000): Promise<T> {
    const id = this.#next++;
    this.#ws.send(JSON.stringify({ id, method, params }));
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`inspector: ${method} got no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      const settle = <A>(fn: (a: A) => void) => (a: A): void => {
        clearTimeout(timer);
        fn(a);
      };
      this.#pending.set(id, { resolve: settle(resolve as (v: unknown) => void), reject: settle(reject) });
    });
  }

  close(): void {
    this.#ws.close();
  }
}

/** The WebSocket URL of the Worker `name` behind Miniflare's inspector on `port`. */
export async function inspectorUrl(port: number, name: string): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { id: string; title?: string; webSocketDebuggerUrl: string }[];
  const target = targets.find((t) => t.id.endsWith(`:${name}`) || t.title === name) ?? targets[0];
  if (target === undefined) throw new Error(`no inspector target on port ${port}`);
  return target.webSocketDebuggerUrl;
}

/** Records a CPU profile of the isolate while `during` runs. */
export async function profileWhile(wsUrl: string, during: () => Promise<void>, samplingIntervalUs = 200): Promise<CpuProfile> {
  const session = await InspectorSession.open(wsUrl);
  try {
    await session.send('Profiler.enable');
    await session.send('Profiler.setSamplingInterval', { interval: samplingIntervalUs });
    await session.send('Profiler.start');
    await during();
    const { profile } = await session.send<{ profile: CpuProfile }>('Profiler.stop');
    return profile;
  } finally {
    session.close();
  }
}

/**
 * The isolate's JS heap (used and total bytes) after a full GC, read through the inspector. workerd runs a requested
 * GC only when the isolate next runs, so `wake` must send the isolate a request (one it answers itself).
 */
export async function heapUsage(wsUrl: string, wake: () => Promise<void>): Promise<{ usedSize: number; totalSize: number }> {
  const session = await InspectorSession.open(wsUrl);
  try {
    const collected = session.send('HeapProfiler.collectGarbage');
    await wake();
    await collected;
    return await session.send<{ usedSize: number; totalSize: number }>('Runtime.getHeapUsage');
  } finally {
    session.close();
  }
}
