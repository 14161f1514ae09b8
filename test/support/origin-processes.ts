import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** One parsed log line of an origin process (JSON lines; anything else is kept as `msg`). */
export type LogLine = Record<string, unknown> & { msg: string };

/** Settings every origin process of one test topology shares. */
export interface OriginTopologyEnv {
  redisUrl: string;
  postgresUrl: string;
  jwtSecret: string;
  apiKey: string;
  workerSecret: string;
  /** Random per test: Redis pub/sub ignores the DB index, so Socket.IO channels must be namespaced. */
  socketIoRedisKey: string;
  /** Extra env for every process (e.g. short lock durations). */
  extra?: Record<string, string>;
}

/** A spawned `origin/main.ts` child. */
export class OriginProcess {
  readonly logs: LogLine[] = [];
  readonly exited: Promise<number | null>;
  exitCode: number | null | undefined = undefined;
  readonly #events = new EventEmitter();

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.#events.setMaxListeners(1000);
    const onData = (buffer: { toString(): string }, pending: { text: string }): void => {
      pending.text += buffer.toString();
      const lines = pending.text.split('\n');
      pending.text = lines.pop() ?? '';
      for (const raw of lines) if (raw.trim() !== '') this.#push(raw);
    };
    const out = { text: '' };
    const err = { text: '' };
    child.stdout?.on('data', (b: Buffer) => onData(b, out));
    child.stderr?.on('data', (b: Buffer) => onData(b, err));
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code ?? (signal === null ? null : -1);
        this.#events.emit('exit');
        resolve(code);
      });
    });
    if (process.env.ORIGIN_TEST_LOGS === '1') this.#events.on('line', (l: LogLine) => process.stdout.write(`[${name}] ${JSON.stringify(l)}\n`));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  #push(raw: string): void {
    let line: LogLine;
    try {
      const parsed = JSON.parse(raw) as unknown;
      line = typeof parsed === 'object' && parsed !== null && 'msg' in parsed ? (parsed as LogLine) : { msg: raw };
    } catch {
      line = { msg: raw };
    }
    this.logs.push(line);
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
        reject(new Error(`${this.name}: timed out waiting for a log line; last lines:\n${this.tail()}`));
      }, timeoutMs);
      this.#events.on('line', onLine);
      this.#events.once('exit', onExit);
    });
  }

  /** Last log lines, for failure messages. */
  tail(n = 15): string {
    return this.logs.slice(-n).map((l) => JSON.stringify(l)).join('\n');
  }

  /** Sends a signal to the node process itself (it is spawned directly, not through npm/npx). */
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
}

function spawnOrigin(name: string, env: Record<string, string>): OriginProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'origin/main.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new OriginProcess(name, child);
}

function baseEnv(topology: OriginTopologyEnv, version: string, name: string): Record<string, string> {
  return {
    AP_VERSION: version,
    AP_REDIS_URL: topology.redisUrl,
    AP_POSTGRES_URL: topology.postgresUrl,
    AP_JWT_SECRET: topology.jwtSecret,
    AP_API_KEY: topology.apiKey,
    AP_WORKER_SECRET: topology.workerSecret,
    AP_SOCKET_IO_REDIS_KEY: topology.socketIoRedisKey,
    AP_INSTANCE_ID: `${name}-${crypto.randomUUID().slice(0, 8)}`,
    ...topology.extra,
  };
}

/** A started app: its process and base URL. */
export interface StartedApp {
  process: OriginProcess;
  url: string;
  port: number;
}

/** Spawns an APP on an ephemeral port and waits until `/v1/health` answers. */
export async function startOriginApp(topology: OriginTopologyEnv, options: { name: string; version: string; env?: Record<string, string> }): Promise<StartedApp> {
  const proc = spawnOrigin(options.name, {
    ...baseEnv(topology, options.version, options.name),
    AP_CONTAINER_TYPE: 'APP',
    AP_PORT: '0',
    AP_HOST: '127.0.0.1',
    ...options.env,
  });
  const ready = await proc.waitForLog((l) => l.msg === 'app listening', 90_000);
  const port = Number(ready.port);
  const url = `http://127.0.0.1:${port}`;
  const health = await fetch(`${url}/v1/health`);
  if (!health.ok) throw new Error(`${options.name}: /v1/health answered ${health.status}`);
  return { process: proc, url, port };
}

/** Spawns a WORKER for `frontendUrl`; waits until it is ready unless `waitReady` is false. */
export async function startOriginWorker(
  topology: OriginTopologyEnv,
  options: { name: string; version: string; frontendUrl: string; canary: boolean; env?: Record<string, string>; waitReady?: boolean },
): Promise<OriginProcess> {
  const proc = spawnOrigin(options.name, {
    ...baseEnv(topology, options.version, options.name),
    AP_CONTAINER_TYPE: 'WORKER',
    AP_FRONTEND_URL: options.frontendUrl,
    AP_IS_CANARY_WORKER: String(options.canary),
    ...options.env,
  });
  if (options.waitReady ?? true) await proc.waitForLog((l) => l.msg === 'worker ready', 90_000);
  return proc;
}

/** Stops every process (SIGTERM, SIGKILL after a grace), in parallel. */
export async function stopAll(processes: readonly (OriginProcess | undefined)[]): Promise<void> {
  await Promise.all(processes.map((p) => p?.stop()));
}

/** Resolves once `proc` has logged `n` lines matching `predicate`. */
export async function waitForLogCount(proc: OriginProcess, predicate: (line: LogLine) => boolean, n: number, timeoutMs = 120_000): Promise<void> {
  // waitForLog scans past lines first and then new ones, each exactly once, so a counting predicate is exact.
  let seen = 0;
  await proc.waitForLog((line) => predicate(line) && ++seen >= n, timeoutMs);
}
