import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { createInterface } from 'node:readline';

/** One output line of a child: its JSON log line, or `{ msg: <text> }` for anything else. */
export type LogLine = Record<string, unknown> & { msg: string };

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Each raw output line as it arrives (e.g. `npm start` prints it prefixed); lines are kept for `find` either way. */
  onLine?: (raw: string, name: string) => void;
  /**
   * Its own process group, so a terminal's Ctrl-C (sent to the whole foreground group) does not reach it: for a
   * service the other processes still need while they shut down. The parent stops it itself.
   */
  ownProcessGroup?: boolean;
}

// A long-running `npm start` must not grow without bound; tests look at far fewer lines than this.
const KEPT_LINES = 50_000;

const live = new Set<ManagedProcess>();
let exitHookInstalled = false;

// Last resort: if the parent exits without a clean stop (uncaught error, second Ctrl-C, a crashed test run), its
// children must not outlive it.
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of live) p.child.kill('SIGKILL');
  });
}

function parseLine(raw: string): LogLine {
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed === 'object' && parsed !== null && typeof Reflect.get(parsed, 'msg') === 'string') return parsed as LogLine;
  } catch {
    // Not JSON: kept as text below.
  }
  return { msg: raw };
}

/**
 * A child process whose output lines are parsed, kept and waited on: the one process wrapper of `npm start`, the
 * tests and the bench. `stop()` is SIGTERM, then SIGKILL after a grace period.
 */
export class ManagedProcess {
  readonly child: ChildProcess;
  readonly logs: LogLine[] = [];
  readonly exited: Promise<number | null>;
  /** undefined while running; the exit code, or -1 when a signal ended it. */
  exitCode: number | null | undefined = undefined;
  readonly #events = new EventEmitter();

  constructor(readonly options: ManagedProcessOptions) {
    this.#events.setMaxListeners(1000);
    this.child = spawn(options.command, [...options.args], {
      cwd: options.cwd,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: options.ownProcessGroup ?? false,
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream !== null) createInterface({ input: stream }).on('line', (raw) => this.#onLine(raw));
    }
    live.add(this);
    installExitHook();
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        live.delete(this);
        this.exitCode = code ?? (signal === null ? null : -1);
        this.#events.emit('exit');
        resolve(code);
      });
    });
  }

  get name(): string {
    return this.options.name;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  #onLine(raw: string): void {
    if (raw.trim() === '') return;
    this.options.onLine?.(raw, this.name);
    const line = parseLine(raw);
    this.logs.push(line);
    if (this.logs.length > KEPT_LINES) this.logs.splice(0, this.logs.length - KEPT_LINES);
    this.#events.emit('line', line);
  }

  /** Lines matching `msg` (and every field of `fields`). */
  find(msg: string, fields: Record<string, unknown> = {}): LogLine[] {
    return this.logs.filter((l) => l.msg === msg && Object.entries(fields).every(([k, v]) => l[k] === v));
  }

  /** Resolves with the first (past or future) line matching `predicate`; rejects on exit or timeout. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    const seen = this.logs.find(predicate);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#events.off('line', onLine);
        this.#events.off('exit', onExit);
      };
      const onLine = (line: LogLine): void => {
        if (!predicate(line)) return;
        cleanup();
        resolve(line);
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`${this.name} exited (code ${String(this.exitCode)}) while waiting; last lines:\n${this.tail()}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for a log line; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.#events.on('line', onLine);
      this.#events.once('exit', onExit);
    });
  }

  /** Resolves once `n` lines matching `predicate` were written (past lines count). */
  async waitForLogCount(predicate: (line: LogLine) => boolean, n: number, timeoutMs = 120_000): Promise<void> {
    // waitForLog scans past lines first and then new ones, each exactly once, so a counting predicate is exact.
    let seen = 0;
    await this.waitForLog((line) => predicate(line) && ++seen >= n, timeoutMs);
  }

  /** Last output lines, for failure messages. */
  tail(n = 15): string {
    return this.logs.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }

  /** Sends a signal to the process itself (spawned directly, never through npm or a shell). */
  kill(signal: NodeJS.Signals): void {
    if (this.exitCode === undefined) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; resolves with the exit code. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (this.exitCode !== undefined) return this.exitCode;
    this.kill('SIGTERM');
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** The started-thing shape: stops the process. */
  async close(): Promise<void> {
    await this.stop();
  }
}
