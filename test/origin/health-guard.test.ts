import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startOriginApp, stopAll } from '../../dev/origin/origin-processes.js';
import type { StartedApp } from '../../dev/origin/origin-processes.js';
import { startFaultProxy } from '../../testkit/fault-proxy.js';
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

// The health guard end to end: real primary and canary apps (both running the guard on system-job-queue), the real
// edge in workerd counting outcomes into Redis, Postgres holding the pause and its audit entry. The canary "starts
// answering 500" through a fault proxy in front of the real canary app (its process, and its guard, stay up), and in
// the last drill the canary app is killed outright.

const PRIMARY_VERSION = '0.1.0';
const CANARY_VERSION = '0.2.0-canary';
const GUARD = { intervalSeconds: 2, windowSeconds: 120, minRequests: 40, maxErrorRate: 0.05 };
const CANARY_PER_SECOND = 30;
const PRIMARY_PER_SECOND = 10;

interface Tick {
  app: string;
  jobId: string;
  at: string;
  verdict: string;
  action: string;
  canaryRequests: number;
}

interface HealthView {
  windowSeconds: number;
  origins: Record<'primary' | 'canary', { requests: number; errors: number; errorRate: number | null }>;
  guard: { settings: Record<string, unknown> | null; lastVerdict: { verdict: string; settings: Record<string, unknown> } | null };
}

interface AuditEntry {
  actor: string;
  action: string;
  after: Record<string, unknown>;
  reason: string | null;
}

describe('the health guard (real apps, edge, Redis and Postgres)', () => {
  const secrets = randomSecrets();
  let redisDb: ReservedRedisDb;
  let redis: Redis;
  let db: TestDatabase;
  let pool: pg.Pool;
  let primary: StartedApp;
  let canary: StartedApp;
  let proxy: FaultProxy;
  let edge: OriginEdge;
  let canaryPlatform: SeededPlatform;
  let primaryPlatform: SeededPlatform;
  let canaryToken: string;
  let primaryToken: string;
  let load: SteadyLoad | undefined;
  const ticks: Tick[] = [];
  const errorLines: { app: string; msg: string }[] = [];
  // What the edge must have counted since the window was last cleared, from what each response says.
  const expected = { primary: 0, canary: 0 };

  beforeAll(async () => {
    [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
    redis = new Redis(redisDb.url, { maxRetriesPerRequest: 1 });
    pool = db.pool({ max: 2 });
    [canaryPlatform, primaryPlatform] = (await seedPlatforms(pool, [{ canary: true }, { canary: false }])) as [SeededPlatform, SeededPlatform];
    canaryToken = await signPrincipalJwt(secrets.jwtSecret, canaryPlatform.platformId, { expiresInSeconds: 3600 });
    primaryToken = await signPrincipalJwt(secrets.jwtSecret, primaryPlatform.platformId, { expiresInSeconds: 3600 });
    const topology = {
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      ...secrets,
      extra: {
        CANARY_GUARD_INTERVAL_SECONDS: String(GUARD.intervalSeconds),
        CANARY_GUARD_WINDOW_SECONDS: String(GUARD.windowSeconds),
        CANARY_GUARD_MIN_REQUESTS: String(GUARD.minRequests),
        CANARY_GUARD_MAX_ERROR_RATE: String(GUARD.maxErrorRate),
      },
      onLine: (raw: string, app: string) => {
        if (!raw.startsWith('{')) return;
        const line = JSON.parse(raw) as Record<string, unknown>;
        if (line.msg === 'canary guard tick') ticks.push({ app, ...(line as Omit<Tick, 'app'>) });
        if (line.level === 'error') errorLines.push({ app, msg: String(line.msg) });
      },
    };
    [primary, canary] = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: PRIMARY_VERSION }),
      startOriginApp(topology, { name: 'canary-app', version: CANARY_VERSION, canary: true }),
    ]);
    proxy = await startFaultProxy(canary.url);
    edge = await startOriginEdge({ redisUrl: redisDb.url, postgresUrl: db.url, primaryUrl: primary.url, canaryUrl: proxy.url, ...secrets });
  });

  afterAll(async () => {
    await load?.stop();
    await edge?.close();
    await proxy?.close();
    await stopAll([primary?.process, canary?.process]);
    await redis?.quit();
    await db?.close();
    await redisDb?.close();
  });

  /** One request through the edge for a platform; books what the edge must count for it. */
  async function send(platform: 'canary' | 'primary'): Promise<void> {
    const res = await fetch(`${edge.url}/v1/flows`, { headers: { authorization: `Bearer ${platform === 'canary' ? canaryToken : primaryToken}` } });
    const body = await res.text();
    const version = res.headers.get('x-ap-version');
    if (version === PRIMARY_VERSION) expected.primary++;
    else if (version === CANARY_VERSION || body.includes('injected_fault') || body.includes('canary_unavailable')) expected.canary++;
    else throw new Error(`unexpected answer ${res.status} ${body.slice(0, 200)}`);
  }

  const startLoad = (): SteadyLoad =>
    startSteadyLoad({
      ratePerSecond: CANARY_PER_SECOND + PRIMARY_PER_SECOND,
      send: (beat) => send(beat % (CANARY_PER_SECOND + PRIMARY_PER_SECOND) < CANARY_PER_SECOND ? 'canary' : 'primary'),
    });

  const health = async (): Promise<HealthView> => (await (await edge.call('GET', '/v1/admin/canary/health')).json()) as HealthView;
  const guardAudit = async (): Promise<AuditEntry[]> =>
    ((await (await edge.call('GET', '/v1/admin/canary/audit?limit=500')).json()) as { entries: AuditEntry[] }).entries.filter((e) => e.actor === 'guard');
  const paused = async (): Promise<boolean> => ((await (await edge.call('GET', '/v1/admin/platforms/canary')).json()) as { paused: boolean }).paused;

  /** Polls `check` (every 100 ms) until it returns a value; fails with `what` after `timeoutMs`. */
  async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await check();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** The ticks that started at or after `sinceMs`, in order. */
  const ticksSince = (sinceMs: number): Tick[] => ticks.filter((t) => Date.parse(t.at) >= sinceMs).sort((a, b) => a.at.localeCompare(b.at));

  /** Waits until the edge has flushed every count the test booked, then starts a new, empty window. */
  async function clearWindow(): Promise<void> {
    await until('the edge to flush its counts', async () => {
      const { origins } = await health();
      return origins.canary.requests === expected.canary && origins.primary.requests === expected.primary ? true : undefined;
    });
    const keys = await redis.keys('canary-edge:health:*');
    if (keys.length > 0) await redis.del(...keys);
    expected.primary = 0;
    expected.canary = 0;
  }

  it('gives no verdict on thin traffic, even when every canary request fails', async () => {
    proxy.fail(500);
    for (let i = 0; i < GUARD.minRequests / 2; i++) await send(i % 2 === 0 ? 'canary' : 'primary');
    await until('the edge to flush its counts', async () => ((await health()).origins.canary.requests === expected.canary ? true : undefined));
    const flushed = Date.now();
    const judged = await until('three ticks over the whole thin sample', () => (ticksSince(flushed).length >= 3 ? ticksSince(flushed) : undefined));
    expect(judged.map((t) => t.verdict)).toEqual(['thin-data', 'thin-data', 'thin-data']);
    expect((await health()).origins.canary).toMatchObject({ requests: expected.canary, errors: expected.canary, errorRate: 1 });
    expect(await paused()).toBe(false);
    expect(await guardAudit()).toEqual([]);
    proxy.fail(null);
    await clearWindow();
  });

  it('never trips on a healthy canary under steady load', async () => {
    const started = Date.now();
    load = startLoad();
    const judged = await until('three healthy verdicts', () => {
      const seen = ticksSince(started);
      return seen.filter((t) => t.verdict === 'healthy').length >= 3 ? seen : undefined;
    });
    expect(judged.every((t) => t.verdict === 'healthy' || t.verdict === 'thin-data')).toBe(true);
    expect(await paused()).toBe(false);
    const view = await health();
    expect(view.origins.canary.errors).toBe(0);
    expect(view.guard.settings).toEqual({ enabled: true, ...GUARD });
  });

  it('pauses a canary that starts answering 500 within two ticks, once, audited by guard with its evidence', async () => {
    const failedAt = Date.now();
    proxy.fail(500);
    const tripped = await until('the guard to pause', () => ticksSince(failedAt).find((t) => t.action === 'paused'));
    const before = ticksSince(failedAt);
    console.log(`guard (500s): paused ${Date.parse(tripped.at) - failedAt} ms after the first failure, on tick ${before.indexOf(tripped) + 1} after it`);
    expect(before.indexOf(tripped)).toBeLessThanOrEqual(1);
    expect(tripped.verdict).toBe('unhealthy');
    expect(await paused()).toBe(true);

    // From the next request on the canary platform reaches the primary, though the cohort still names it.
    const res = await fetch(`${edge.url}/v1/flows`, { headers: { authorization: `Bearer ${canaryToken}` } });
    await res.arrayBuffer();
    expect(res.headers.get('x-ap-version')).toBe(PRIMARY_VERSION);
    expected.primary++;

    // Both apps keep ticking; neither resumes, and the pause is audited exactly once.
    await until('two more ticks', () => (ticksSince(Date.parse(tripped.at) + 1).length >= 2 ? true : undefined));
    expect(await paused()).toBe(true);
    const audit = await guardAudit();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'pause', after: { paused: true, evidence: { windowSeconds: GUARD.windowSeconds, minRequests: GUARD.minRequests } } });
    const evidence = (audit[0]?.after as { evidence: { counts: HealthView['origins']; rates: { canary: number } } }).evidence;
    expect(evidence.counts.canary.errors).toBeGreaterThan(0);
    expect(evidence.rates.canary).toBeGreaterThan(GUARD.maxErrorRate);
    expect(audit[0]?.reason).toMatch(/^health guard: canary error rate/);
    expect(errorLines.filter((l) => l.msg === 'canary guard paused canary routing')).toHaveLength(1);
    expect(ticksSince(Date.parse(tripped.at) + 1).every((t) => t.verdict === 'paused' && t.action === 'none')).toBe(true);
    // One schedule, each tick run by exactly one of the two apps.
    const jobIds = ticks.map((t) => t.jobId);
    expect(new Set(jobIds).size).toBe(jobIds.length);
    expect((await health()).guard.lastVerdict?.verdict).toBe('paused');

    await load?.stop();
    load = undefined;
    proxy.fail(null);
  });

  it('judges a resumed canary on its traffic after the resume only: the failures that paused it do not pause it again', async () => {
    // The window still holds the 500s of the drill above; resuming must not let them count again.
    expect((await health()).origins.canary.errors).toBeGreaterThan(0);
    load = startLoad();
    expect((await edge.call('POST', '/v1/admin/canary/resume', { reason: 'drill: canary fixed' })).status).toBe(200);
    const resumed = Date.now();
    expect((await health()).origins.canary.errors).toBe(0);
    const judged = await until('two ticks after the resume, one of them healthy', () => {
      const seen = ticksSince(resumed);
      return seen.length >= 2 && seen.some((t) => t.verdict === 'healthy') ? seen : undefined;
    });
    expect(judged.every((t) => t.verdict === 'healthy' || t.verdict === 'thin-data')).toBe(true);
    expect(await paused()).toBe(false);
    expect((await guardAudit()).map((e) => e.action)).toEqual(['pause']);
  });

  it('pauses a canary whose app dies under steady load within two ticks', async () => {
    const killedAt = Date.now();
    canary.process.kill('SIGKILL');
    await canary.process.exited;
    const tripped = await until('the guard to pause', () => ticksSince(killedAt).find((t) => t.action === 'paused'));
    console.log(`guard (killed app): paused ${Date.parse(tripped.at) - killedAt} ms after the kill, on tick ${ticksSince(killedAt).indexOf(tripped) + 1} after it`);
    expect(ticksSince(killedAt).indexOf(tripped)).toBeLessThanOrEqual(1);
    expect(tripped.app).toBe('primary-app');
    expect(await paused()).toBe(true);
    expect((await guardAudit()).map((e) => e.action)).toEqual(['pause', 'pause']);
    await load?.stop();
    load = undefined;
  });
});
