import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_FLIP_DONE, flipDemoPlatform, liveProcessesInGroup, startPortsEnv, startReadyTopology } from '../../testkit/npm-start.js';
import type { StartPorts, StartedCommand } from '../../testkit/npm-start.js';
import { portOpen } from '../../testkit/ports.js';
import { testServerUrl } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

let start: StartedCommand;
let redisDb: ReservedRedisDb;
const dbName = `ce_test_start_${randomBytes(5).toString('hex')}`;
let ports: StartPorts;

beforeAll(async () => {
  redisDb = await reserveRedisDb();
  const postgresUrl = new URL(testServerUrl());
  postgresUrl.pathname = `/${dbName}`;
  ({ start, ports } = await startReadyTopology(
    (startPorts) => ({
      ...process.env,
      ...startPortsEnv(startPorts),
      AP_REDIS_URL: redisDb.url,
      AP_POSTGRES_URL: postgresUrl.toString(),
      AP_SOCKET_IO_REDIS_KEY: `npm-start-${randomBytes(4).toString('hex')}`,
      AP_API_KEY: '',
      AP_JWT_SECRET: '',
      CANARY_GUARD_INTERVAL_SECONDS: '1',
      CANARY_GUARD_WINDOW_SECONDS: '120',
    }),
    { timeoutMs: 150_000 },
  ));
}, 180_000);

afterAll(async () => {
  start.kill(); // only does something when a test failed before the clean stop
  await start.exitCode;
  const admin = new pg.Client({ connectionString: testServerUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  await admin.end();
  await redisDb.close();
});

describe('npm start', () => {
  it('prints where everything runs, generated secrets and demo JWTs', () => {
    expect(start.output).toContain(`edge (Worker in workerd)     http://127.0.0.1:${ports.EDGE_PORT}`);
    expect(start.output).toContain(`http://127.0.0.1:${ports.PRIMARY_PORT}`);
    expect(start.output).toContain(`http://127.0.0.1:${ports.CANARY_PORT}`);
    expect(start.output).toMatch(/AP_API_KEY=dev-[0-9a-f]+/);
    expect(start.output).toMatch(/export JWT=ey/);
    expect(start.output).toContain(`admin page   http://127.0.0.1:${ports.EDGE_PORT}/__canary/`);
    expect(start.output).toContain('npx canary-edge status demo-primary');
  });

  it('serves the demo: a flip moves the platform, its webhook runs on the canary fleet', async () => {
    expect(await flipDemoPlatform(start.output, ports.EDGE_PORT)).toEqual(DEMO_FLIP_DONE);
    const edge = `http://127.0.0.1:${ports.EDGE_PORT}`;

    const run = await fetch(`${edge}/v1/webhooks/demo-primary-flow/sync`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ada' }),
    });
    expect(await run.json()).toMatchObject({ status: 'SUCCEEDED', queue: 'canaryWorkerJobs', workerVersion: '0.2.0-canary' });
  });

  it('passes CANARY_GUARD_* through to the apps: the guard reports the settings it was started with', async () => {
    const apiKey = /AP_API_KEY=(\S+)/.exec(start.output)?.[1] ?? '';
    const edge = `http://127.0.0.1:${ports.EDGE_PORT}`;
    let view: { guard: { settings: unknown } } = { guard: { settings: null } };
    for (const deadline = Date.now() + 30_000; view.guard.settings === null && Date.now() < deadline; ) {
      view = (await (await fetch(`${edge}/v1/admin/canary/health`, { headers: { 'api-key': apiKey } })).json()) as typeof view;
      if (view.guard.settings === null) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(view.guard.settings).toMatchObject({ enabled: true, intervalSeconds: 1, windowSeconds: 120 });
  });

  it('stops every process cleanly on Ctrl-C', async () => {
    const group = start.child.pid;
    if (group === undefined) throw new Error('npm start has no pid');
    start.interrupt();
    // npm itself dies of the SIGINT, as in a terminal; the topology then finishes its graceful stop.
    await start.outputClosed;
    expect(start.output).toContain('[start] SIGINT: stopping everything');
    expect(start.output).toContain('[start] stopped');
    for (const name of ['primary-app', 'canary-app', 'primary-worker', 'canary-worker']) expect(start.output).toContain(`[${name}] stopped`);
    for (const port of Object.values(ports)) expect(await portOpen(port)).toBe(false);
    // npm closes its output before it has finished exiting: wait for its exit, then nothing of the group may be left.
    await start.exitCode;
    expect(liveProcessesInGroup(group)).toEqual([]);
  }, 60_000);
});
