import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { allocatePorts, describePort } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The ports `npm start` is told to use (all free when it starts). */
export type StartPorts = Record<'EDGE_PORT' | 'PRIMARY_PORT' | 'CANARY_PORT' | 'UPSTASH_PORT' | 'NEON_PORT', number>;

/** Distinct allocated ports for every listener of `npm start`, plus `extra` more (e.g. for Redis and PostgreSQL). */
export async function allocateStartPorts(extra = 0): Promise<{ ports: StartPorts; extra: number[] }> {
  const [edge, primary, canary, upstash, neon, ...rest] = await allocatePorts(5 + extra);
  if (edge === undefined || primary === undefined || canary === undefined || upstash === undefined || neon === undefined) {
    throw new Error('the allocator returned fewer ports than asked');
  }
  return { ports: { EDGE_PORT: edge, PRIMARY_PORT: primary, CANARY_PORT: canary, UPSTASH_PORT: upstash, NEON_PORT: neon }, extra: rest };
}

/** The env lines of the start ports. */
export function startPortsEnv(ports: StartPorts): Record<string, string> {
  return Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)]));
}

/** The port an EADDRINUSE in `output` names, if any. */
export function clashedPort(output: string): number | null {
  const match = /EADDRINUSE[^\n]*?:(\d{2,5})\b/.exec(output);
  return match?.[1] === undefined ? null : Number(match[1]);
}

/** `npm start` (or `command`) on allocated ports, ready, with the ports it was given. */
export interface ReadyTopology {
  start: StartedCommand;
  ports: StartPorts;
  /** The `extra` ports asked for. */
  extra: number[];
}

/**
 * Starts `npm start` on freshly allocated ports and waits for `[start] ready`. A child that still cannot bind a number
 * it was given (EADDRINUSE) is stopped and started once more on fresh numbers; a second clash fails naming the port
 * and the process holding it. Any other failure fails at once with the output.
 */
export async function startReadyTopology(
  envFor: (ports: StartPorts, extra: number[]) => NodeJS.ProcessEnv,
  options: { extraPorts?: number; timeoutMs: number; command?: string; args?: readonly string[] },
): Promise<ReadyTopology> {
  const clashes: string[] = [];
  for (let attempt = 1; ; attempt++) {
    const { ports, extra } = await allocateStartPorts(options.extraPorts ?? 0);
    const start = startCommand(options.command ?? 'npm', options.args ?? ['start'], envFor(ports, extra));
    try {
      await start.waitForOutput(/\[start\] ready/, options.timeoutMs);
      return { start, ports, extra };
    } catch (error) {
      const port = clashedPort(start.output);
      // Who holds it is looked up before the group is stopped: the holder may be one of its own children.
      const holder = port === null ? null : describePort(port);
      start.kill();
      await start.exitCode;
      if (holder === null) throw error;
      clashes.push(`attempt ${attempt}: ${holder}`);
      if (attempt >= 2) {
        throw new Error(`npm start could not bind a port it was given, twice (${clashes.join('; ')}):\n${start.output}`);
      }
    }
  }
}

/** `pid comm` of processes in a process group that are still running (zombies are dead, merely not reaped yet). */
export function liveProcessesInGroup(pgid: number): string[] {
  const live: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, , group] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(group) === pgid && state !== 'Z') live.push(`${entry} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`);
    } catch {
      // Exited while we looked.
    }
  }
  return live;
}

/** `npm start` (or another command) run as a terminal would: its own process group, output collected. */
export interface StartedCommand {
  child: ChildProcess;
  readonly output: string;
  exitCode: Promise<number | null>;
  /** Resolves when stdout closes (every process holding it exited). */
  outputClosed: Promise<void>;
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** Ctrl-C as a terminal delivers it: SIGINT to every process of the group. */
  interrupt(): void;
  /** Last resort in afterAll: SIGKILL to the whole group. */
  kill(): void;
}

/** Spawns `command` in the repository, detached into its own process group. */
export function startCommand(command: string, args: readonly string[], env: NodeJS.ProcessEnv): StartedCommand {
  const child = spawn(command, [...args], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  const exitCode = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const outputClosed = new Promise<void>((resolve) => child.stdout?.once('close', () => resolve()));
  const group = (signal: NodeJS.Signals): void => {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  return {
    child,
    get output() {
      return output;
    },
    exitCode,
    outputClosed,
    waitForOutput(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const started = Date.now();
        const check = (): void => {
          const match = pattern.exec(output);
          if (match) return resolve(match);
          if (child.exitCode !== null) return reject(new Error(`the command exited early:\n${output}`));
          if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${output}`));
          const next = (): void => {
            child.stdout?.off('data', next);
            child.stderr?.off('data', next);
            child.off('exit', next);
            clearTimeout(timer);
            check();
          };
          const timer = setTimeout(next, Math.max(0, timeoutMs - (Date.now() - started)) + 1);
          child.stdout?.once('data', next);
          child.stderr?.once('data', next);
          child.once('exit', next);
        };
        check();
      });
    },
    interrupt: () => group('SIGINT'),
    kill: () => group('SIGKILL'),
  };
}

/** What the banner's demo flip did: the version serving the demo JWT before and after, and the admin route's answer. */
export interface DemoFlip {
  versionBefore: string | null;
  flip: unknown;
  versionAfter: string | null;
}

/** Follows `npm start`'s banner: flips demo-primary into the canary with the printed admin key, as a user would. */
export async function flipDemoPlatform(output: string, edgePort: number): Promise<DemoFlip> {
  const apiKey = /AP_API_KEY=(\S+)/.exec(output)?.[1] ?? '';
  const jwt = /export JWT=(\S+)/.exec(output)?.[1] ?? '';
  const edge = `http://127.0.0.1:${edgePort}`;
  const version = async (): Promise<string | null> => (await fetch(`${edge}/v1/health`, { headers: { authorization: `Bearer ${jwt}` } })).headers.get('x-ap-version');
  const versionBefore = await version();
  const res = await fetch(`${edge}/v1/admin/platforms/canary`, {
    method: 'POST',
    headers: { 'api-key': apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ platformId: 'demo-primary', canary: true }),
  });
  const flip: unknown = await res.json();
  return { versionBefore, flip, versionAfter: await version() };
}

/** The demo flip as the banner promises it. */
export const DEMO_FLIP_DONE: DemoFlip = { versionBefore: '0.1.0', flip: { platformId: 'demo-primary', canary: true }, versionAfter: '0.2.0-canary' };
