import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadEmbeddedPostgres, traversableByOthers } from './embedded-postgres-module.js';
import { ManagedProcess } from '../process/managed-process.js';
import { REPO_ROOT } from '../repo-root.js';

/** A store `npm start` found running, or started itself. */
export interface LocalService {
  name: 'Redis' | 'PostgreSQL';
  url: string;
  /** How it came to be there, for the banner. */
  origin: 'found' | 'started (embedded PostgreSQL)' | 'started (redis-server)';
  close(): Promise<void>;
}

/** What to do when a store is missing and cannot be started here: the exact commands, for every common setup. */
export class MissingServiceError extends Error {
  override name = 'MissingServiceError';
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const PROBE_TIMEOUT_MS = 500;

/** True when something accepts TCP connections at host:port (within half a second). */
export function answers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function waitUntilAnswers(host: string, port: number, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    if (await answers(host, port)) return;
    if (Date.now() > deadline) throw new Error(`${what} did not accept connections on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function onPath(binary: string, searchPath: string): string | null {
  for (const dir of searchPath.split(path.delimiter)) {
    const candidate = path.join(dir, binary);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

function found(name: LocalService['name'], url: string): LocalService {
  return { name, url, origin: 'found', close: () => Promise.resolve() };
}

export interface ServiceOptions {
  /** Where started services keep their data (a git-ignored folder, reused across runs). */
  dataDir: string;
  /** PATH to look for `redis-server` on. */
  searchPath: string;
  /** Lines a started service prints (prefixed by the caller). */
  onLine: (line: string) => void;
}

/**
 * As root, PostgreSQL runs as the `postgres` system user, which must reach its data directory. A repository under a
 * private folder (e.g. /root, or a 0700 temporary clone) is out of its reach; then the data lives in a folder of its
 * own under the system's temporary directory instead, named after the repository so runs still reuse it.
 */
async function dataDirForPostgresUser(preferred: string): Promise<string> {
  const dir = traversableByOthers(path.dirname(preferred))
    ? preferred
    : path.join(os.tmpdir(), `canary-edge-${createHash('sha256').update(preferred).digest('hex').slice(0, 12)}`);
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  return dir;
}

/** The default data folder of started services: `.local/` in the repository (git-ignored). */
export const DEFAULT_DATA_DIR = path.join(REPO_ROOT, '.local');

/**
 * Redis at `url`: the one running there, else a private `redis-server` on that port when the binary is on PATH (data
 * kept in memory only), else a MissingServiceError naming the commands that install or start one.
 */
export async function ensureRedis(url: string, options: ServiceOptions): Promise<LocalService> {
  const { hostname, port: portText } = new URL(url);
  const port = Number(portText || 6379);
  if (await answers(hostname, port)) return found('Redis', url);
  const binary = LOOPBACK.has(hostname) ? onPath('redis-server', options.searchPath) : null;
  if (binary === null) {
    throw new MissingServiceError(
      [
        `Nothing answers at ${hostname}:${port} (AP_REDIS_URL) and ${LOOPBACK.has(hostname) ? 'no redis-server is on PATH' : 'that host is not this machine'}. Start Redis, then run npm start again:`,
        '  Debian/Ubuntu:  sudo apt-get install -y redis-server && redis-server --daemonize yes --port 6379 --save "" --appendonly no',
        '  macOS:          brew install redis && brew services start redis',
        '  Docker:         docker compose up -d redis postgres',
        '  or point AP_REDIS_URL at a Redis you have.',
      ].join('\n'),
    );
  }
  const proc = new ManagedProcess({
    name: 'redis',
    command: binary,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    env: { PATH: options.searchPath },
    cwd: REPO_ROOT,
    onLine: (line) => options.onLine(line),
    // The apps and workers still talk to it while a Ctrl-C shuts them down; it is stopped after them.
    ownProcessGroup: true,
  });
  try {
    await Promise.race([waitUntilAnswers(hostname, port, 10_000, 'redis-server'), proc.exited.then((code) => Promise.reject(new Error(`redis-server exited (code ${String(code)}) while starting; see its lines above`)))]);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    name: 'Redis',
    url,
    origin: 'started (redis-server)',
    async close() {
      await proc.stop(5_000);
    },
  };
}

/**
 * PostgreSQL at `url`: the one running there, else a real embedded PostgreSQL (the `embedded-postgres` package ships
 * the server binaries) on that port with trust authentication on loopback, its data kept in `dataDir/postgres` and
 * reused across runs. A non-local host that does not answer is a MissingServiceError naming the fix.
 */
export async function ensurePostgres(url: string, options: ServiceOptions): Promise<LocalService> {
  const { hostname, port: portText, username } = new URL(url);
  const port = Number(portText || 5432);
  if (await answers(hostname, port)) return found('PostgreSQL', url);
  if (!LOOPBACK.has(hostname)) {
    throw new MissingServiceError(
      `Nothing answers at ${hostname}:${port} (AP_POSTGRES_URL). Start that server, or unset AP_POSTGRES_URL to let npm start run an embedded PostgreSQL on this machine.`,
    );
  }
  const isRoot = process.getuid?.() === 0;
  const dataDir = isRoot ? await dataDirForPostgresUser(options.dataDir) : options.dataDir;
  const databaseDir = path.join(dataDir, 'postgres');
  const fresh = !existsSync(path.join(databaseDir, 'PG_VERSION'));
  await mkdir(dataDir, { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres(isRoot);
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: decodeURIComponent(username || 'postgres'),
    // Loopback only and a developer's own data: trust, like the URL it serves (which carries no password).
    password: 'unused-with-trust-auth',
    initdbFlags: ['--auth=trust'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user (created if missing).
    createPostgresUser: isRoot,
    onLog: (line) => options.onLine(String(line).trim()),
    onError: (line) => options.onLine(String(line).trim()),
  });
  if (fresh) await server.initialise();
  await server.start();
  await waitUntilAnswers('127.0.0.1', port, 10_000, 'embedded PostgreSQL');
  return { name: 'PostgreSQL', url, origin: 'started (embedded PostgreSQL)', close: () => server.stop() };
}
