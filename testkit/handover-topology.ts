import type pg from 'pg';
import { CloseStack } from '../core/lifecycle/close-all.js';
import { startOriginApp, startOriginWorker } from '../dev/origin/origin-processes.js';
import type { ManagedProcess, OriginTopology, StartedApp } from '../dev/origin/origin-processes.js';
import { signPrincipalJwt } from '../dev/seed/seed-data.js';
import { startOriginEdge } from './origin-edge.js';
import type { OriginEdge } from './origin-edge.js';
import { randomSecrets, seedPlatforms } from './origin-fixtures.js';
import type { SeededPlatform } from './origin-fixtures.js';
import { createTestDatabase } from './test-database.js';
import { reserveRedisDb } from './test-redis.js';
import { startSteadyLoad } from './steady-load.js';
import type { SteadyLoad } from './steady-load.js';

/** A seeded platform with a principal token (an hour long). */
export interface HandoverPlatform extends SeededPlatform {
  token: string;
}

/** Stores, a primary and a canary app, the real edge in front of them and one worker per fleet, all of its own. */
export interface HandoverTopology {
  pool: pg.Pool;
  redisUrl: string;
  primary: StartedApp;
  canary: StartedApp;
  workers: ManagedProcess[];
  edge: OriginEdge;
  /** The first `canaryPlatforms` are pinned to the canary; the others follow the rollout (0%: the primary). */
  platforms: HandoverPlatform[];
  close(): Promise<void>;
}

export interface HandoverTopologyOptions {
  platforms: number;
  canaryPlatforms: number;
  /** SOCKET_HANDOVER_RATE of both apps. */
  handoverRate: number;
  /** A worker per fleet, so webhooks run and publish `flow-run-finished` (default true). */
  workers?: boolean;
  /** More environment for every origin process. */
  extra?: Record<string, string>;
}

export const HANDOVER_VERSIONS = { primary: '0.1.0', canary: '0.2.0-canary' } as const;

/**
 * Like Promise.all, but waits for every start to settle before it rejects: each started thing registers itself for
 * cleanup when it resolves, so none may still be starting when the cleanup runs.
 */
async function allStarted<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(starts);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : undefined)) as unknown as T;
}

/**
 * Starts what a handover runs on: a Redis and a Postgres database, seeded platforms, both apps (the canary one as the
 * canary build), the edge (workerd) routing between them and, unless told otherwise, a worker per fleet. A failure
 * half-way closes what did start.
 */
export async function startHandoverTopology(options: HandoverTopologyOptions): Promise<HandoverTopology> {
  const stack = new CloseStack();
  try {
    const secrets = randomSecrets();
    const redisDb = stack.add('redis database', await reserveRedisDb(), (r) => r.close());
    const db = stack.add('postgres database', await createTestDatabase(), (d) => d.close());
    const pool = db.pool({ max: 4 });
    const seeded = await seedPlatforms(
      pool,
      Array.from({ length: options.platforms }, (_, i) => ({ canary: i < options.canaryPlatforms })),
    );
    const platforms = await Promise.all(
      seeded.map(async (p) => ({ ...p, token: await signPrincipalJwt(secrets.jwtSecret, p.platformId, { expiresInSeconds: 3600 }) })),
    );
    const topology: OriginTopology = {
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      ...secrets,
      extra: { SOCKET_HANDOVER_RATE: String(options.handoverRate), ...options.extra },
    };
    const startApp = async (name: string, canary: boolean): Promise<StartedApp> =>
      stack.add(name, await startOriginApp(topology, { name, version: canary ? HANDOVER_VERSIONS.canary : HANDOVER_VERSIONS.primary, canary }), (a) => a.close());
    const [primary, canary] = await allStarted([startApp('primary-app', false), startApp('canary-app', true)] as const);
    const startWorkers = async (): Promise<ManagedProcess[]> => {
      if (options.workers === false) return [];
      const start = async (name: string, app: StartedApp, canaryFleet: boolean): Promise<ManagedProcess> =>
        stack.add(
          name,
          await startOriginWorker(topology, { name, version: canaryFleet ? HANDOVER_VERSIONS.canary : HANDOVER_VERSIONS.primary, frontendUrl: app.url, canary: canaryFleet }),
          async (w) => void (await w.stop()),
        );
      return allStarted([start('primary-worker', primary, false), start('canary-worker', canary, true)]);
    };
    const [edge, workers] = await allStarted([
      startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primary.url, canaryUrl: canary.url, ...secrets }).then((e) =>
        stack.add('edge', e, (x) => x.close()),
      ),
      startWorkers(),
    ] as const);
    return { pool, redisUrl: redisDb.url, primary, canary, workers, edge, platforms, close: () => stack.close() };
  } catch (error) {
    await stack.close().catch(() => undefined);
    throw error;
  }
}

/**
 * Webhooks through the edge at `ratePerSecond`, round-robin over `platforms`, so their rooms get `flow-run-finished`
 * events; each accepted run's id is appended to `published` under its platform (the events every client is owed).
 */
export function startWebhookLoad(edgeUrl: string, platforms: readonly HandoverPlatform[], ratePerSecond: number, published: Map<string, string[]>): SteadyLoad {
  for (const p of platforms) if (!published.has(p.platformId)) published.set(p.platformId, []);
  return startSteadyLoad({
    ratePerSecond,
    send: async (beat) => {
      const p = platforms[beat % platforms.length];
      if (p === undefined) return;
      const res = await fetch(`${edgeUrl}/v1/webhooks/${p.flowId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ beat }),
      });
      if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
      published.get(p.platformId)?.push(((await res.json()) as { runId: string }).runId);
    },
  });
}
