/** Messages between a bench parent and a child service (see child-service.ts). */
export type ParentMessage = { type: 'call'; id: number; method: string } | { type: 'close' };
export type ChildMessage =
  | { type: 'ready'; info: unknown }
  | { type: 'result'; id: number; value: unknown }
  | { type: 'failure'; id: number; error: string };

export type RpcHandlers = Record<string, () => unknown>;

function send(message: ChildMessage): void {
  process.send?.(message);
}

/** The JSON configuration the parent passed as argv[2]. */
export function childConfig<T>(): T {
  const raw = process.argv[2];
  if (raw === undefined) throw new Error('child service started without its JSON configuration argument');
  return JSON.parse(raw) as T;
}

/**
 * Child side: announces readiness with `info`, answers the parent's calls with `handlers`, and closes itself when the
 * parent asks or goes away (a crashed or interrupted bench must not leave services running).
 */
export function serveParent(info: unknown, handlers: RpcHandlers, close: () => Promise<void>): void {
  if (process.send === undefined) throw new Error('child service must be started with an IPC channel (fork)');
  let closing = false;
  const shutdown = (): void => {
    if (closing) return;
    closing = true;
    void close()
      .catch((error: unknown) => console.error('child service close failed:', error))
      .finally(() => process.exit(0));
  };
  process.on('message', (raw: ParentMessage) => {
    if (raw.type === 'close') return shutdown();
    const handler = handlers[raw.method];
    if (handler === undefined) return send({ type: 'failure', id: raw.id, error: `unknown method ${raw.method}` });
    Promise.resolve()
      .then(handler)
      .then(
        (value) => send({ type: 'result', id: raw.id, value }),
        (error: unknown) => send({ type: 'failure', id: raw.id, error: error instanceof Error ? error.message : String(error) }),
      );
  });
  process.once('disconnect', shutdown);
  process.once('SIGTERM', shutdown);
  // Ctrl-C reaches the whole process group; the parent decides when children stop.
  process.on('SIGINT', () => undefined);
  send({ type: 'ready', info });
}
