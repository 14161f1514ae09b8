import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServerUrl } from '../support/postgres.js';
import { reserveRedisDb } from '../support/redis.js';
import type { ReservedRedisDb } from '../support/redis.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/** `pid comm` of processes in a process group that are still running (zombies are dead, merely not reaped yet). */
function liveProcessesInGroup(pgid: number): string[] {
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

let child: ChildProcess;
let output = '';
let exitCode: Promise<number | null>;
let outputClosed: Promise<void>;
let redisDb: ReservedRedisDb;
const dbName = `ce_test_start_${randomBytes(5).toString('hex')}`;
const ports: Record<string, number> = {};

function waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = (): void => {
      const match = pattern.exec(output);
      if (match) return resolve(match);
      if (child.exitCode !== null) return reject(new Error(`npm start exited early:\n${output}`));
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${pattern}:\n${output}`));
      child.stdout?.once('data', check);
    };
    check();
  });
}

beforeAll(async () => {
  redisDb = await reserveRedisDb();
  for (const name of ['EDGE_PORT', 'PRIMARY_PORT', 'CANARY_PORT', 'UPSTASH_PORT', 'NEON_PORT']) ports[name] = await freePort();
  const postgresUrl = new URL(testServerUrl());
  postgresUrl.pathname = `/${dbName}`;
  child = spawn('npm', ['start'], {
    cwd: ROOT,
    // Its own process group, so the test can deliver Ctrl-C the way a terminal does: to every process of the group.
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      ...process.env,
      ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
      AP_REDIS_URL: redisDb.url,
      AP_POSTGRES_URL: postgresUrl.toString(),
      AP_SOCKET_IO_REDIS_KEY: `npm-start-${randomBytes(4).toString('hex')}`,
      AP_API_KEY: '',
      AP_JWT_SECRET: '',
    },
  });
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  exitCode = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  outputClosed = new Promise((resolve) => child.stdout?.once('close', () => resolve()));
  await waitForOutput(/\[start\] ready/, 150_000);
}, 180_000);

afterAll(async () => {
  if (child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL'); // only reached when a test failed before the clean stop
    } catch {
      // The group is already gone.
    }
  }
  await exitCode;
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  await redisDb.release();
});

describe('npm start', () => {
  it('prints where everything runs, generated secrets and demo JWTs', () => {
    expect(output).toContain(`edge (Worker in workerd)     http://127.0.0.1:${ports.EDGE_PORT}`);
    expect(output).toContain(`http://127.0.0.1:${ports.PRIMARY_PORT}`);
    expect(output).toContain(`http://127.0.0.1:${ports.CANARY_PORT}`);
    expect(output).toMatch(/AP_API_KEY=dev-[0-9a-f]+/);
    expect(output).toMatch(/export JWT=ey/);
  });

  it('serves the demo: a flip moves the platform, its webhook runs on the canary fleet', async () => {
    const apiKey = /AP_API_KEY=(\S+)/.exec(output)?.[1] ?? '';
    const jwt = /export JWT=(\S+)/.exec(output)?.[1] ?? '';
    const edge = `http://127.0.0.1:${ports.EDGE_PORT}`;
    const version = async () => (await fetch(`${edge}/v1/health`, { headers: { authorization: `Bearer ${jwt}` } })).headers.get('x-ap-version');

    expect(await version()).toBe('0.1.0');
    const flip = await fetch(`${edge}/v1/admin/platforms/canary`, {
      method: 'POST',
      headers: { 'api-key': apiKey, 'content-type': 'application/json' },
      body: JSON.stringify({ platformId: 'demo-primary', canary: true }),
    });
    expect(await flip.json()).toEqual({ platformId: 'demo-primary', canary: true });
    expect(await version()).toBe('0.2.0-canary');

    const run = await fetch(`${edge}/v1/webhooks/demo-primary-flow/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ada' }),
    });
    expect(await run.json()).toMatchObject({ status: 'SUCCEEDED', queue: 'canaryWorkerJobs', workerVersion: '0.2.0-canary' });
  });

  it('stops every process cleanly on Ctrl-C', async () => {
    if (child.pid === undefined) throw new Error('npm start has no pid');
    const group = child.pid;
    process.kill(-group, 'SIGINT');
    // npm itself dies of the SIGINT, as in a terminal; the topology's supervisor then finishes its graceful stop.
    await outputClosed;
    expect(output).toContain('[start] SIGINT: stopping everything');
    expect(output).toContain('[start] stopped');
    for (const name of ['primary-app', 'canary-app', 'primary-worker', 'canary-worker']) expect(output).toContain(`[${name}] stopped`);
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
    expect(liveProcessesInGroup(group)).toEqual([]);
  }, 60_000);
});
