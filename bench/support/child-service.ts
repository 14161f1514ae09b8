import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ChildMessage, ParentMessage } from './child-rpc.js';

export const BENCH_ROOT = path.resolve(import.meta.dirname, '..');
const REPO_ROOT = path.resolve(BENCH_ROOT, '..');

export interface ChildService<Info> {
  info: Info;
  pid: number;
  /** Calls a handler the child registered with `serveParent` and resolves with its value. */
  call<T>(method: string): Promise<T>;
  /** Asks the child to close and waits for it to exit (killed after `timeoutMs`). */
  close(timeoutMs?: number): Promise<void>;
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Forks `entry` (a TypeScript file under bench/, run through tsx) as its own process so that it does not share an
 * event loop with the load generator, and waits until it reports ready.
 */
export async function startChildService<Info>(entry: string, config: unknown, readyTimeoutMs = 60_000): Promise<ChildService<Info>> {
  const child = fork(path.join(BENCH_ROOT, entry), [JSON.stringify(config)], {
    cwd: REPO_ROOT,
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 0;
  const pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  const info = await new Promise<Info>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not report ready within ${readyTimeoutMs} ms`));
    }, readyTimeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited (code ${code}) before it was ready`));
    });
    child.on('message', (message: ChildMessage) => {
      if (message.type === 'ready') {
        clearTimeout(timer);
        resolve(message.info as Info);
      } else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (message.type === 'result') waiter?.resolve(message.value);
        else waiter?.reject(new Error(`${entry}: ${message.error}`));
      }
    });
  });
  child.once('exit', (code) => {
    for (const waiter of pending.values()) waiter.reject(new Error(`${entry} exited (code ${code})`));
    pending.clear();
  });
  const post = (message: ParentMessage): void => {
    if (child.connected) child.send(message);
  };
  return {
    info,
    pid: child.pid ?? -1,
    call<T>(method: string): Promise<T> {
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        if (!child.connected) return reject(new Error(`${entry} is not running`));
        pending.set(id, { resolve: (value) => resolve(value as T), reject });
        post({ type: 'call', id, method });
      });
    },
    async close(timeoutMs = 10_000) {
      post({ type: 'close' });
      await waitForExit(child, timeoutMs);
    },
  };
}
