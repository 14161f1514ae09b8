import path from 'node:path';
import { migrateUp } from '../tools/migrations/index.js';
import { REPO_ROOT } from './bundle-edge.js';
import { seedDemoData } from './demo-data.js';
import type { DemoPlatform } from './demo-data.js';
import { startNeonLocal } from './neon-local/server.js';
import type { NeonLocal } from './neon-local/server.js';
import type { StartConfig } from './start-config.js';
import { Supervised } from './supervisor.js';
import { startUpstashLocal } from './upstash-local/server.js';
import type { UpstashLocal } from './upstash-local/server.js';

export interface Topology {
  demos: DemoPlatform[];
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function originEnv(config: StartConfig, extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...process.env,
    AP_REDIS_URL: config.redisUrl,
    AP_POSTGRES_URL: config.postgresUrl,
    AP_JWT_SECRET: config.jwtSecret,
    AP_API_KEY: config.apiKey,
    AP_WORKER_SECRET: config.workerSecret,
    AP_SOCKET_IO_REDIS_KEY: config.socketIoRedisKey,
    AP_HOST: '127.0.0.1',
    ...extra,
  };
}

/**
 * Brings up the whole local topology of DESIGN §5 in dependency order — migrations, local Upstash and Neon endpoints,
 * both apps, both workers, the edge — waiting for each to answer. On any failure, stops what already started.
 */
export async function startTopology(config: StartConfig, print: (line: string) => void): Promise<Topology> {
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch((e: unknown) => print(`[start] error while stopping: ${String(e)}`));
  };
  try {
    print(`[start] applying migrations to ${new URL(config.postgresUrl).pathname.slice(1)}`);
    const { applied } = await migrateUp(config.postgresUrl, { log: (l) => print(`[migrate] ${l}`) });
    if (applied.length === 0) print('[migrate] database is up to date');

    const upstash: UpstashLocal = await startUpstashLocal({ redisUrl: config.redisUrl, token: config.upstashToken, port: config.upstashPort });
    stops.push(() => upstash.close());
    const neon: NeonLocal = await startNeonLocal({ port: config.neonPort });
    stops.push(() => neon.close());

    const demos = await seedDemoData(config);

    const node = (name: string, extra: Record<string, string>) =>
      new Supervised({
        name,
        command: process.execPath,
        args: ['--import', 'tsx', path.join(REPO_ROOT, 'origin', 'main.ts')],
        cwd: REPO_ROOT,
        env: originEnv(config, extra),
        print,
      });
    const apps = [
      node('primary-app', { AP_CONTAINER_TYPE: 'APP', AP_VERSION: config.primaryVersion, AP_PORT: String(config.primaryPort), AP_INSTANCE_ID: 'primary-app' }),
      node('canary-app', { AP_CONTAINER_TYPE: 'APP', AP_VERSION: config.canaryVersion, AP_PORT: String(config.canaryPort), AP_INSTANCE_ID: 'canary-app' }),
    ];
    for (const app of apps) stops.push(() => app.stop());
    await Promise.all(apps.map((app) => app.waitForLine((l) => l.includes('"app listening"'), READY_TIMEOUT_MS)));

    const workers = [
      node('primary-worker', {
        AP_CONTAINER_TYPE: 'WORKER',
        AP_VERSION: config.primaryVersion,
        AP_FRONTEND_URL: `http://127.0.0.1:${config.primaryPort}`,
        AP_INSTANCE_ID: 'primary-worker',
      }),
      node('canary-worker', {
        AP_CONTAINER_TYPE: 'WORKER',
        AP_VERSION: config.canaryVersion,
        AP_FRONTEND_URL: `http://127.0.0.1:${config.canaryPort}`,
        AP_IS_CANARY_WORKER: 'true',
        AP_INSTANCE_ID: 'canary-worker',
      }),
    ];
    // Workers stop before the apps they report to.
    for (const worker of workers) stops.push(() => worker.stop());
    await Promise.all(workers.map((w) => w.waitForLine((l) => l.includes('"worker ready"'), READY_TIMEOUT_MS)));

    const edge = new Supervised({
      name: 'edge',
      command: process.execPath,
      args: ['--import', 'tsx', path.join(REPO_ROOT, 'dev', 'edge-main.ts')],
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        EDGE_PORT: String(config.edgePort),
        AP_PRIMARY_APP_URL: `http://127.0.0.1:${config.primaryPort}`,
        AP_CANARY_APP_URL: `http://127.0.0.1:${config.canaryPort}`,
        AP_API_KEY: config.apiKey,
        AP_JWT_SECRET: config.jwtSecret,
        UPSTASH_REDIS_REST_URL: upstash.url,
        UPSTASH_REDIS_REST_TOKEN: config.upstashToken,
        DATABASE_URL: config.postgresUrl,
        NEON_HTTP_ENDPOINT: neon.fetchEndpoint,
      },
      print,
    });
    stops.push(() => edge.stop());
    await edge.waitForLine((l) => l.includes('"edge listening"'), READY_TIMEOUT_MS);
    return { demos, stop: stopAll };
  } catch (error) {
    await stopAll();
    throw error;
  }
}
