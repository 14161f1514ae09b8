import { mkdtemp, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_FLIP_DONE, flipDemoPlatform, liveProcessesInGroup, startCommand, startPortsEnv, startReadyTopology } from '../../testkit/npm-start.js';
import type { StartedCommand } from '../../testkit/npm-start.js';
import { allocatePort, portOpen } from '../../testkit/ports.js';

// `npm start` on a machine without Redis or PostgreSQL: it starts what it can (an embedded PostgreSQL, a private
// redis-server) on the ports the URLs name, or fails at once naming the commands that fix it.

const started: StartedCommand[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const s of started) {
    s.kill();
    await s.exitCode;
  }
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('npm start without services', () => {
  it('starts an embedded PostgreSQL and a private redis-server, says so, and the demo flip works; Ctrl-C stops them', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'canary-edge-local-'));
    dirs.push(dataDir);
    const { start, ports, extra } = await startReadyTopology(
      (startPorts, [pg = 0, redis = 0]) => ({
        ...process.env,
        ...startPortsEnv(startPorts),
        AP_POSTGRES_URL: `postgres://postgres@127.0.0.1:${pg}/canary_edge`,
        AP_REDIS_URL: `redis://127.0.0.1:${redis}`,
        LOCAL_DATA_DIR: dataDir,
      }),
      { extraPorts: 2, timeoutMs: 150_000 },
    );
    started.push(start);
    const [pgPort = 0, redisPort = 0] = extra;
    expect(start.output).toMatch(new RegExp(`PostgreSQL +postgres://postgres@127\\.0\\.0\\.1:${pgPort}/canary_edge +started \\(embedded PostgreSQL\\)`));
    expect(start.output).toMatch(new RegExp(`Redis +redis://127\\.0\\.0\\.1:${redisPort} +started \\(redis-server\\)`));

    expect(await flipDemoPlatform(start.output, ports.EDGE_PORT)).toEqual(DEMO_FLIP_DONE);

    const group = start.child.pid;
    if (group === undefined) throw new Error('npm start has no pid');
    start.interrupt();
    await start.outputClosed;
    expect(start.output.split('\n').slice(-30).join('\n')).toContain('[start] stopped');
    for (const port of [pgPort, redisPort, ...Object.values(ports)]) expect(await portOpen(port)).toBe(false);
    // npm closes its output before it has finished exiting: wait for its exit, then nothing of the group may be left.
    await start.exitCode;
    expect(liveProcessesInGroup(group)).toEqual([]);
  }, 200_000);

  it('fails at once, naming the commands that fix it, when Redis is missing and redis-server is not on PATH', async () => {
    const redisPort = await allocatePort();
    // A PATH holding only node (node's own directory may hold redis-server too, as /usr/bin does on Debian).
    const bin = await mkdtemp(path.join(os.tmpdir(), 'canary-edge-bin-'));
    dirs.push(bin);
    await symlink(process.execPath, path.join(bin, 'node'));
    const start = startCommand(process.execPath, ['--import', 'tsx', 'dev/start.ts'], {
      HOME: process.env.HOME ?? '/tmp',
      PATH: bin,
      AP_REDIS_URL: `redis://127.0.0.1:${redisPort}`,
    });
    started.push(start);
    expect(await start.exitCode).toBe(1);
    expect(start.output).toContain(`Nothing answers at 127.0.0.1:${redisPort} (AP_REDIS_URL) and no redis-server is on PATH`);
    expect(start.output).toContain('apt-get install -y redis-server');
    expect(start.output).toContain('brew install redis');
    expect(start.output).toContain('docker compose up -d redis postgres');
    expect(start.output).not.toContain('[start] ready');
  }, 30_000);
});
