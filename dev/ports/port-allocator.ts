import { closeSync, openSync, readFileSync, mkdirSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * Loopback ports for processes the tests, the bench and the soak start: a number is handed out at most once while its
 * holder lives, across every process of the machine, and is free when handed out.
 *
 * Why it cannot hand out a number twice:
 * - Numbers come from **below the kernel's ephemeral range** (`ip_local_port_range`), so no `listen(0)` and no
 *   outgoing connection is ever given one by the kernel behind the allocator's back.
 * - Each number is **claimed** before it is checked: on Linux by binding an abstract Unix socket named after it (the
 *   kernel refuses a second bind of that name, and releases it when the holding process dies — no stale locks), on
 *   other systems by a lock file created exclusively (its pid checked for liveness). Claims outlive the check, so a
 *   second process (a parallel Vitest worker, a bench child) skips the number, and this process remembers it too.
 * - A claimed number is then **bound for real** (dual-stack) and released: it proves nothing outside the allocator
 *   (a system service on a fixed port) holds it.
 */

/** Allocator ranges when the kernel's cannot be read (non-Linux): below macOS's and Windows' ephemeral start too. */
const FALLBACK_RANGE = { low: 20_000, high: 32_767 } as const;
/** Never below this: the well-known and registered ports many dev services use live lower down. */
const LOWEST = 10_000;

const claims = new Map<number, Claim>();

interface Claim {
  release(): void;
}

/** The ports this machine's kernel never hands out on its own (below the ephemeral range), or the fallback. */
export function allocatorRange(): { low: number; high: number } {
  try {
    const [ephemeralLow] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (ephemeralLow !== undefined && Number.isInteger(ephemeralLow) && ephemeralLow - 1 - LOWEST >= 1_000) {
      return { low: LOWEST, high: ephemeralLow - 1 };
    }
  } catch {
    // Not Linux: the fallback range is below the other systems' ephemeral ranges.
  }
  return FALLBACK_RANGE;
}

function listenOnce(server: net.Server, options: net.ListenOptions): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(false);
      else reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve(true);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(options);
  });
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Linux: an abstract Unix socket per number, held (unref'd) until released or until the process dies. */
async function claimAbstract(port: number): Promise<Claim | null> {
  const server = net.createServer();
  if (!(await listenOnce(server, { path: `\0canary-edge-port-${port}` }))) return null;
  server.unref();
  return { release: () => void server.close() };
}

const LOCK_DIR = path.join(os.tmpdir(), 'canary-edge-ports');
const lockFiles = new Set<string>();
let exitHookInstalled = false;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Elsewhere: a lock file created exclusively, holding the owner's pid; a dead owner's file is taken over once. */
function claimLockFile(port: number): Claim | null {
  mkdirSync(LOCK_DIR, { recursive: true });
  const file = path.join(LOCK_DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      lockFiles.add(file);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', () => {
          for (const f of lockFiles) rmSync(f, { force: true });
        });
      }
      return {
        release() {
          lockFiles.delete(file);
          rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(file, 'utf8'));
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) return null;
      rmSync(file, { force: true });
    }
  }
  return null;
}

function claim(port: number): Promise<Claim | null> {
  return process.platform === 'linux' ? claimAbstract(port) : Promise.resolve(claimLockFile(port));
}

/** True when the port can be bound right now on every interface (dual-stack where there is IPv6). */
async function bindable(port: number): Promise<boolean> {
  const server = net.createServer();
  let ok: boolean;
  try {
    ok = await listenOnce(server, { port, host: '::', ipv6Only: false, exclusive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EAFNOSUPPORT' && (error as NodeJS.ErrnoException).code !== 'EADDRNOTAVAIL') throw error;
    ok = await listenOnce(server, { port, host: '0.0.0.0', exclusive: true });
  }
  if (ok) await closeServer(server);
  return ok;
}

/** Thrown when every number of the range is claimed or bound. */
export class PortsExhaustedError extends Error {
  override name = 'PortsExhaustedError';
}

// One allocation at a time per process: two concurrent calls must not probe (and claim) the same number.
let queue: Promise<unknown> = Promise.resolve();

/**
 * A loopback port nothing else holds: claimed for this process until `releasePort` (or its exit), never handed to
 * another caller of this allocator meanwhile, and free when returned. Bind it yourself or give it to a child.
 */
export function allocatePort(): Promise<number> {
  const next = queue.then(async () => {
    const { low, high } = allocatorRange();
    const size = high - low + 1;
    // A random start spreads concurrent processes over the range, so they rarely probe the same numbers.
    const start = Math.floor(Math.random() * size);
    for (let i = 0; i < size; i++) {
      const port = low + ((start + i) % size);
      if (claims.has(port)) continue;
      const held = await claim(port);
      if (held === null) continue;
      if (!(await bindable(port))) {
        held.release();
        continue;
      }
      claims.set(port, held);
      return port;
    }
    throw new PortsExhaustedError(`no free port in ${low}-${high}: every number is claimed or bound`);
  });
  queue = next.catch(() => undefined);
  return next;
}

/** `count` distinct ports, all claimed before the first is returned (one test's ports, chosen together). */
export async function allocatePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await allocatePort());
  return ports;
}

/** Gives a port back (nothing of this process may use it any more). */
export function releasePort(port: number): void {
  claims.get(port)?.release();
  claims.delete(port);
}

/** Ports this process holds right now. */
export function claimedPorts(): number[] {
  return [...claims.keys()];
}
