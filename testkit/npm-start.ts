import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './ports.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** The ports `npm start` is told to use (all free when it starts). */
export type StartPorts = Record<'EDGE_PORT' | 'PRIMARY_PORT' | 'CANARY_PORT' | 'UPSTASH_PORT' | 'NEON_PORT', number>;

/** Free ports for every listener of `npm start`. */
export async function freeStartPorts(): Promise<StartPorts> {
  return {
    EDGE_PORT: await freePort(),
    PRIMARY_PORT: await freePort(),
    CANARY_PORT: await freePort(),
    UPSTASH_PORT: await freePort(),
    NEON_PORT: await freePort(),
  };
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
