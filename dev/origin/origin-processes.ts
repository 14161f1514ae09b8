import path from 'node:path';
import { allocatePort } from '../ports/port-allocator.js';
import { ManagedProcess } from '../process/managed-process.js';
import { REPO_ROOT } from '../repo-root.js';

/** What every origin process of one topology shares. */
export interface OriginTopology {
  redisUrl: string;
  postgresUrl: string;
  jwtSecret: string;
  workerSecret: string;
  /** Random per test run: Redis pub/sub ignores the DB index, so Socket.IO channels must be namespaced. */
  socketIoRedisKey: string;
  /** Environment every process starts from (default: only PATH and HOME, so nothing leaks in by accident). */
  baseEnv?: NodeJS.ProcessEnv;
  /** Extra variables for every process (e.g. short lock durations in tests). */
  extra?: Record<string, string>;
  /** Each raw output line, e.g. printed with a prefix by `npm start`. */
  onLine?: (raw: string, name: string) => void;
}

/** A started app: its process and base URL. */
export interface StartedApp {
  process: ManagedProcess;
  url: string;
  port: number;
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 90_000;

function spawnOrigin(topology: OriginTopology, name: string, env: Record<string, string>): ManagedProcess {
  return new ManagedProcess({
    name,
    command: process.execPath,
    args: ['--import', 'tsx', path.join(REPO_ROOT, 'origin', 'main.ts')],
    cwd: REPO_ROOT,
    env: {
      ...(topology.baseEnv ?? { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }),
      AP_REDIS_URL: topology.redisUrl,
      AP_POSTGRES_URL: topology.postgresUrl,
      AP_JWT_SECRET: topology.jwtSecret,
      AP_WORKER_SECRET: topology.workerSecret,
      AP_SOCKET_IO_REDIS_KEY: topology.socketIoRedisKey,
      AP_INSTANCE_ID: `${name}-${crypto.randomUUID().slice(0, 8)}`,
      ...topology.extra,
      ...env,
    },
    onLine: topology.onLine,
  });
}

/** Spawns an APP (no `port`: an allocated one; `canary`: the canary build, AP_IS_CANARY_APP) and waits until it listens and `/v1/health` answers. */
export async function startOriginApp(
  topology: OriginTopology,
  options: { name: string; version: string; port?: number; env?: Record<string, string>; canary?: boolean },
): Promise<StartedApp> {
  const proc = spawnOrigin(topology, options.name, {
    AP_CONTAINER_TYPE: 'APP',
    AP_VERSION: options.version,
    AP_IS_CANARY_APP: String(options.canary === true),
    // An allocated port (dev/ports), so an app killed in a drill can be started again behind the same URL.
    AP_PORT: String(options.port ?? (await allocatePort())),
    AP_HOST: '127.0.0.1',
    ...options.env,
  });
  try {
    const ready = await proc.waitForLog((l) => l.msg === 'app listening', READY_TIMEOUT_MS);
    const port = Number(ready.port);
    const url = `http://127.0.0.1:${port}`;
    const health = await fetch(`${url}/v1/health`);
    if (!health.ok) throw new Error(`${options.name}: /v1/health answered ${health.status}`);
    return { process: proc, url, port, close: () => proc.close() };
  } catch (error) {
    await proc.stop();
    throw error;
  }
}

/** Spawns a WORKER for the app at `frontendUrl`; waits until it is ready unless `waitReady` is false. */
export async function startOriginWorker(
  topology: OriginTopology,
  options: { name: string; version: string; frontendUrl: string; canary: boolean; env?: Record<string, string>; waitReady?: boolean },
): Promise<ManagedProcess> {
  const proc = spawnOrigin(topology, options.name, {
    AP_CONTAINER_TYPE: 'WORKER',
    AP_VERSION: options.version,
    AP_FRONTEND_URL: options.frontendUrl,
    AP_IS_CANARY_WORKER: String(options.canary),
    ...options.env,
  });
  if (options.waitReady ?? true) {
    try {
      await proc.waitForLog((l) => l.msg === 'worker ready', READY_TIMEOUT_MS);
    } catch (error) {
      await proc.stop();
      throw error;
    }
  }
  return proc;
}

export type { LogLine, ManagedProcess } from '../process/managed-process.js';

/** Stops every process (SIGTERM, SIGKILL after a grace), in parallel. */
export async function stopAll(processes: readonly ({ stop(): Promise<unknown> } | undefined)[]): Promise<void> {
  await Promise.all(processes.map((p) => p?.stop()));
}
