import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evidenceKeys } from '../../core/judge/evidence-keys.js';
import { seedFlow, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startOriginApp, startOriginWorker, stopAll } from '../../dev/origin/origin-processes.js';
import type { ManagedProcess, StartedApp } from '../../dev/origin/origin-processes.js';
import { startFaultProxy } from '../../testkit/fault-proxy.js';
import { emptyJudgeWindow, pollUntil } from '../../testkit/poll-until.js';
import { judgeEnv } from '../../testkit/judge-env.js';
import type { FaultProxy } from '../../testkit/fault-proxy.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import type { SeededPlatform } from '../../testkit/origin-fixtures.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { startSteadyLoad } from '../../testkit/steady-load.js';
import type { SteadyLoad } from '../../testkit/steady-load.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// The judge end to end: real primary and canary apps and workers, the real edge in workerd recording per-platform
// signals into Redis, the judge in the primary app (the canary app never judges), Postgres holding the pause, the
// quarantine and their audit entries. Each origin sits behind a proxy (the same hop on both sides) that can make it
// answer 500, for everyone or for one platform.

const PRIMARY_VERSION = '0.1.0';
const CANARY_VERSION = '0.2.0-canary';
/**
 * A tick every 2 s: longer than the edge's batching (a batch leaves at most 1 s after its first observation), so the
 * second tick after a failure began always holds at least a second of it ("within 2 ticks" is the judge's reaction,
 * not the race between a tick and a batch).
 */
const JUDGE = { intervalSeconds: 2, windowSeconds: 60, minRequests: 60 };
/** The sync wait of webhooks here, and the two slow flows of the tenant that attacks: one outlives it, one does not. */
const SYNC_WAIT_MS = 1_500;
const OUTLIVES_WAIT_MS = 2_500;
const UNDER_WAIT_MS = 1_000;

interface Tick {
  app: string;
  jobId: string;
  at: string;
  verdict: string;
  action: string;
  quarantined: string[];
}

interface AuditEntry {
  actor: string;
  action: string;
  platformId: string | null;
  after: Record<string, unknown>;
  reason: string | null;
  at: string;
}

describe('the judge (real apps, workers, edge, Redis and Postgres)', () => {
  const secrets = randomSecrets();
  let redisDb: ReservedRedisDb;
  let redis: Redis;
  let db: TestDatabase;
  let pool: pg.Pool;
  let primary: StartedApp;
  let canary: StartedApp;
  const workers: ManagedProcess[] = [];
  let canaryProxy: FaultProxy;
  let primaryProxy: FaultProxy;
  let edge: OriginEdge;
  let canaryPlatforms: SeededPlatform[];
  let primaryPlatforms: SeededPlatform[];
  const tokens = new Map<string, string>();
  let load: SteadyLoad | undefined;
  const ticks: Tick[] = [];
  /** The attacking tenant's two slow flows. */
  let outlivesWait: string;
  let underWait: string;

  beforeAll(async () => {
    [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
    redis = new Redis(redisDb.url, { maxRetriesPerRequest: 1 });
    pool = db.pool({ max: 2 });
    canaryPlatforms = await seedPlatforms(pool, [{ canary: true }, { canary: true }, { canary: true }, { canary: true }]);
    primaryPlatforms = await seedPlatforms(pool, Array.from({ length: 6 }, () => ({ canary: false })));
    for (const p of [...canaryPlatforms, ...primaryPlatforms]) tokens.set(p.platformId, await signPrincipalJwt(secrets.jwtSecret, p.platformId, { expiresInSeconds: 3600 }));
    const attacker = canaryPlatforms[0]?.platformId ?? '';
    outlivesWait = (await seedFlow(pool, attacker, { definition: { steps: [{ type: 'delay', ms: OUTLIVES_WAIT_MS }] } })).flowId;
    underWait = (await seedFlow(pool, attacker, { definition: { steps: [{ type: 'delay', ms: UNDER_WAIT_MS }] } })).flowId;
    const topology = {
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      ...secrets,
      extra: {
        ...judgeEnv(JUDGE),
        AP_WEBHOOK_SYNC_TIMEOUT_MS: String(SYNC_WAIT_MS),
        AP_WORKER_CONCURRENCY: '100',
      },
      onLine: (raw: string, app: string) => {
        if (!raw.startsWith('{')) return;
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (line.msg === 'judge tick') ticks.push({ app, ...(line as Omit<Tick, 'app'>) });
      },
    };
    [primary, canary] = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: PRIMARY_VERSION }),
      startOriginApp(topology, { name: 'canary-app', version: CANARY_VERSION, canary: true }),
    ]);
    workers.push(
      ...(await Promise.all([
        startOriginWorker(topology, { name: 'primary-worker', version: PRIMARY_VERSION, frontendUrl: primary.url, canary: false }),
        startOriginWorker(topology, { name: 'canary-worker', version: CANARY_VERSION, frontendUrl: canary.url, canary: true }),
      ])),
    );
    [canaryProxy, primaryProxy] = await Promise.all([startFaultProxy(canary.url), startFaultProxy(primary.url)]);
    edge = await startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primaryProxy.url, canaryUrl: canaryProxy.url, ...secrets });
  }, 180_000);

  afterAll(async () => {
    await load?.stop();
    await edge?.close();
    await Promise.all([canaryProxy?.close(), primaryProxy?.close()]);
    await stopAll(workers);
    await stopAll([primary?.process, canary?.process]);
    await redis?.quit();
    await db?.close();
    await redisDb?.close();
  });

  /** One request through the edge, as a principal of `platformId`; the answer is drained. */
  async function send(platformId: string, path = '/v1/flows', method = 'GET'): Promise<number> {
    const res = await fetch(`${edge.url}${path}`, { method, headers: { authorization: `Bearer ${tokens.get(platformId) ?? ''}` }, body: method === 'GET' ? null : '{}' });
    await res.arrayBuffer();
    return res.status;
  }

  /** Steady traffic: 30 requests a second spread over the canary platforms, 20 over the primary ones (at `ratePerSecond` 50). */
  const startLoad = (ratePerSecond = 50): SteadyLoad =>
    startSteadyLoad({
      ratePerSecond,
      send: async (beat) => {
        const list = beat % 5 < 3 ? canaryPlatforms : primaryPlatforms;
        await send(list[beat % list.length]?.platformId ?? '');
      },
    });

  /** The judge's audit entries (since `sinceMs`: each drill reads its own). */
  const audit = async (sinceMs = 0): Promise<AuditEntry[]> =>
    ((await (await edge.call('GET', '/v1/admin/canary/audit?limit=500')).json()) as { entries: AuditEntry[] }).entries.filter((e) => e.actor === 'judge' && Date.parse(e.at) >= sinceMs);
  /** Canary requests in the judge's window, from its last record. */
  const canaryWindowRequests = async (): Promise<number> =>
    ((await (await edge.call('GET', '/v1/admin/canary/health')).json()) as { judge: { metrics: { requestErrors: { canary: { n: number } } } | null } }).judge.metrics?.requestErrors.canary.n ?? 0;
  const paused = async (): Promise<boolean> => ((await (await edge.call('GET', '/v1/admin/platforms/canary')).json()) as { paused: boolean }).paused;
  const routeOf = async (platformId: string): Promise<string> =>
    ((await (await edge.call('GET', `/v1/admin/platforms/canary/${platformId}`)).json()) as { canary: boolean }).canary ? 'canary' : 'primary';

  /** Polls until `check` returns a value; the timeout names the last ticks and the judge's record. */
  const until = <T,>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> =>
    pollUntil(what, check, {
      timeoutMs,
      describe: async () => {
        const health = (await (await edge.call('GET', '/v1/admin/canary/health')).json()) as { judge: unknown };
        return `last ticks ${JSON.stringify(ticks.slice(-5))}; judge ${JSON.stringify(health.judge).slice(0, 3000)}`;
      },
    });


  const ticksSince = (sinceMs: number): Tick[] => ticks.filter((t) => Date.parse(t.at) >= sinceMs).sort((a, b) => a.at.localeCompare(b.at));

  /**
   * Between drills: no load, routing resumed, quarantines released, and an empty window (the edge's batches drained
   * first, so nothing of the last drill arrives late).
   */
  async function freshStart(): Promise<void> {
    await load?.stop();
    load = undefined;
    canaryProxy.fail(null);
    for (const p of canaryPlatforms) canaryProxy.failPlatform(p.platformId, null);
    if (await paused()) expect((await edge.call('POST', '/v1/admin/canary/resume', { reason: 'drill over' })).status).toBe(200);
    for (const p of canaryPlatforms) {
      if ((await routeOf(p.platformId)) === 'primary') await edge.call('POST', '/v1/admin/platforms/canary', { platformId: p.platformId, canary: true, reason: 'drill over' });
    }
    await emptyJudgeWindow(redis, evidenceKeys);
  }

  it('passes a healthy canary under steady load and does nothing', async () => {
    await freshStart();
    const started = Date.now();
    load = startLoad();
    const judged = await until('three passing verdicts', () => {
      const seen = ticksSince(started);
      return seen.filter((t) => t.verdict === 'pass').length >= 3 ? seen : undefined;
    });
    expect(judged.every((t) => t.verdict === 'pass' || t.verdict === 'inconclusive')).toBe(true);
    expect(judged.every((t) => t.app === 'primary-app')).toBe(true); // a canary build never judges itself
    expect(await paused()).toBe(false);
    expect(await audit()).toEqual([]);
  });

  it('the slow-flow attack (one tenant\'s flows outliving the sync wait: 504 run_timeout) pauses nothing and quarantines at most that tenant', async () => {
    await freshStart();
    const attacker = canaryPlatforms[0]?.platformId ?? '';
    const started = Date.now();
    load = startLoad(100);
    // The attack of the judge's issue: 800 normal canary requests in the window, then 200 of these at once.
    await until('800 canary requests in the window', async () => ((await canaryWindowRequests()) >= 800 ? true : undefined));
    const statuses = await Promise.all(Array.from({ length: 200 }, () => send(attacker, `/v1/webhooks/${outlivesWait}/sync`, 'POST')));
    expect(statuses.filter((s) => s !== 504)).toEqual([]);
    const attacked = Date.now();
    // Three ticks: past the attack's runs (they end 1 s after their 504s) and the workers' batches of them.
    await until('three ticks after the attack', () => (ticksSince(attacked).length >= 3 ? true : undefined));
    const entries = await audit(started);
    console.log(`judge (slow-flow attack): ${ticksSince(started).length} ticks, verdicts ${[...new Set(ticksSince(started).map((t) => t.verdict))].join(', ')}; ${entries.map((e) => `${e.action} ${e.platformId ?? ''}`).join(', ') || 'no action'}`);
    expect(entries.filter((e) => e.action !== 'quarantine' || e.platformId !== attacker).map((e) => ({ action: e.action, platformId: e.platformId, reason: e.reason }))).toEqual([]);
    expect(await paused()).toBe(false);
    for (const p of canaryPlatforms.slice(1)) expect(await routeOf(p.platformId)).toBe('canary');
  });

  it('the same tenant\'s slow flows that stay under the sync wait (20% of the canary\'s requests) pause nothing either', async () => {
    await freshStart();
    const attacker = canaryPlatforms[0]?.platformId ?? '';
    const started = Date.now();
    load = startLoad();
    // Six slow runs a second next to the load's thirty canary requests a second (a fifth of the canary's requests).
    const slow = startSteadyLoad({ ratePerSecond: 6, maxInFlight: 100, send: async () => void (await send(attacker, `/v1/webhooks/${underWait}/sync`, 'POST')) });
    await until('eight seconds of slow runs', () => (Date.now() - started >= 8_000 ? true : undefined));
    const report = await slow.stop();
    expect(report).toMatchObject({ failed: 0 });
    const stopped = Date.now();
    await until('two more ticks', () => (ticksSince(stopped).length >= 2 ? true : undefined));
    const entries = await audit(started);
    console.log(`judge (slow flows under the wait): verdicts ${[...new Set(ticksSince(started).map((t) => t.verdict))].join(', ')}; ${entries.map((e) => `${e.action} ${e.platformId ?? ''}`).join(', ') || 'no action'}`);
    expect(entries.filter((e) => e.action !== 'quarantine' || e.platformId !== attacker).map((e) => ({ action: e.action, platformId: e.platformId, reason: e.reason }))).toEqual([]);
    expect(await paused()).toBe(false);
  });

  it('quarantines the one platform a canary fails within 2 ticks of the minimum sample, audited by judge with the evidence; the others stay on the canary', async () => {
    await freshStart();
    const started = Date.now();
    const [, broken, ...others] = canaryPlatforms.map((p) => p.platformId);
    load = startLoad();
    // The window first holds the minimum sample of healthy canary traffic.
    const healthy = await until('a passing verdict', () => ticksSince(Date.now() - JUDGE.intervalSeconds * 1000).find((t) => t.verdict === 'pass'));
    const failedAt = Date.now();
    canaryProxy.failPlatform(broken ?? '', 500);
    const tripped = await until('the judge to quarantine', () => ticksSince(failedAt).find((t) => t.action === 'quarantined'));
    // The minimum sample of canary traffic since the failure began: at the load's 30 canary requests a second.
    const sampled = failedAt + (JUDGE.minRequests / 30) * 1000;
    const afterSample = ticksSince(sampled);
    console.log(
      `judge (one platform failing): quarantined ${Date.parse(tripped.at) - failedAt} ms after the first failure, on tick ${ticksSince(failedAt).indexOf(tripped) + 1} ` +
        `after it, tick ${afterSample.indexOf(tripped) + 1} after the minimum sample of canary traffic (window had ${healthy.verdict})`,
    );
    // Within 2 ticks of the minimum sample: the tick that first held it, or the next (-1: even before it).
    expect(afterSample.indexOf(tripped)).toBeLessThanOrEqual(1);
    expect(tripped.quarantined).toEqual([broken]);
    expect(await paused()).toBe(false);
    expect(await routeOf(broken ?? '')).toBe('primary');
    for (const id of others) expect(await routeOf(id ?? '')).toBe('canary');
    const entries = await audit(started);
    expect(entries.map((e) => [e.action, e.platformId])).toEqual([['quarantine', broken]]);
    const entry = entries[0];
    expect(entry).toMatchObject({ after: { canary: false, evidence: { metrics: { requestErrors: { concentratedIn: [broken] } } } } });
    expect(entry?.reason).toMatch(/^judge: requestErrors: canary server-error rate/);
    const health = (await (await edge.call('GET', '/v1/admin/canary/health')).json()) as { quarantined: { platformId: string }[] };
    expect(health.quarantined.map((q) => q.platformId)).toEqual([broken]);
  });

  it('pauses a canary that fails everyone within 2 ticks, once', async () => {
    await freshStart();
    const started = Date.now();
    load = startLoad();
    await until('a passing verdict', () => ticksSince(Date.now() - JUDGE.intervalSeconds * 1000).find((t) => t.verdict === 'pass'));
    const failedAt = Date.now();
    canaryProxy.fail(500);
    const tripped = await until('the judge to pause', () => ticksSince(failedAt).find((t) => t.action === 'paused'));
    console.log(`judge (canary failing everyone): paused ${Date.parse(tripped.at) - failedAt} ms after the first failure, on tick ${ticksSince(failedAt).indexOf(tripped) + 1} after it`);
    expect(ticksSince(failedAt).indexOf(tripped)).toBeLessThanOrEqual(1);
    expect(await paused()).toBe(true);
    await until('two more ticks', () => (ticksSince(Date.parse(tripped.at) + 1).length >= 2 ? true : undefined));
    expect((await audit(started)).map((e) => e.action)).toEqual(['pause']);
    expect(ticksSince(Date.parse(tripped.at) + 1).every((t) => t.verdict === 'paused' && t.action === 'none')).toBe(true);
    const jobIds = ticks.map((t) => t.jobId);
    expect(new Set(jobIds).size).toBe(jobIds.length); // one schedule, each tick run once
  });

  it('judges a resumed canary on its traffic after the resume only: the failures that paused it do not pause it again', async () => {
    // The window still holds the 500s of the drill above; resuming must not let them count again.
    canaryProxy.fail(null);
    load ??= startLoad();
    expect((await edge.call('POST', '/v1/admin/canary/resume', { reason: 'drill: canary fixed' })).status).toBe(200);
    const resumed = Date.now();
    const judged = await until('two ticks after the resume, one of them passing', () => {
      const seen = ticksSince(resumed);
      return seen.length >= 2 && seen.some((t) => t.verdict === 'pass') ? seen : undefined;
    });
    expect(judged.every((t) => t.verdict === 'pass' || t.verdict === 'inconclusive')).toBe(true);
    expect(await paused()).toBe(false);
  });

  it('pauses a canary whose app dies under steady load within two ticks', async () => {
    load ??= startLoad();
    await until('a passing verdict', () => ticksSince(Date.now() - JUDGE.intervalSeconds * 1000).find((t) => t.verdict === 'pass'));
    const killedAt = Date.now();
    canary.process.kill('SIGKILL');
    await canary.process.exited;
    const tripped = await until('the judge to pause', () => ticksSince(killedAt).find((t) => t.action === 'paused'));
    console.log(`judge (killed app): paused ${Date.parse(tripped.at) - killedAt} ms after the kill, on tick ${ticksSince(killedAt).indexOf(tripped) + 1} after it`);
    expect(ticksSince(killedAt).indexOf(tripped)).toBeLessThanOrEqual(1);
    expect(tripped.app).toBe('primary-app');
    expect(await paused()).toBe(true);
    await load?.stop();
    load = undefined;
  });
});
