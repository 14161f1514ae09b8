import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { prettyLogLine } from './pretty-log.js';

export interface SupervisedOptions {
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where prefixed lines go. */
  print: (line: string) => void;
}

const live = new Set<Supervised>();
let exitHookInstalled = false;

// Last resort: if the parent exits without a clean stop (uncaught error, second Ctrl-C), children must not outlive it.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) s.child.kill('SIGKILL');
  });
}

/** A child process whose output is printed line by line with a name prefix. */
export class Supervised {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly #lineWaiters: { test: (line: string) => boolean; resolve: () => void }[] = [];

  constructor(readonly options: SupervisedOptions) {
    this.child = spawn(options.command, options.args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => this.#onLine(line));
    }
    live.add(this);
    installExitHook();
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        live.delete(this);
        resolve(code);
      }),
    );
  }

  #onLine(line: string): void {
    this.options.print(`[${this.options.name}] ${prettyLogLine(line)}`);
    for (const waiter of [...this.#lineWaiters]) {
      if (waiter.test(line)) {
        this.#lineWaiters.splice(this.#lineWaiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves when a line matching `test` is printed; rejects if the process exits first or after `timeoutMs`. */
  waitForLine(test: (line: string) => boolean, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.options.name} was not ready within ${timeoutMs} ms`)), timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#lineWaiters.push({ test, resolve: done });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.options.name} exited with code ${String(code)} before it was ready (see its log above)`));
      });
    });
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 15_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
