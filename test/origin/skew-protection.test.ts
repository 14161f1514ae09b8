import { Redis } from 'ioredis';
import type pg from 'pg';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSlug } from '../../origin/app/routes/build-page.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startOriginApp, stopAll } from '../../dev/origin/origin-processes.js';
import type { StartedApp } from '../../dev/origin/origin-processes.js';
import { randomSecrets, seedPlatforms } from '../../testkit/origin-fixtures.js';
import { startOriginEdge } from '../../testkit/origin-edge.js';
import type { OriginEdge } from '../../testkit/origin-edge.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// Skew protection end to end: real primary and canary apps serving a build-stamped page and assets named after their
// build, the real edge (workerd) pinning each document load's build, 500 simulated browser sessions (a cookie jar
// each) over 20 tenants that flip while the sessions still hold their pages.

const PRIMARY = '0.1.0';
const CANARY = '0.2.0-canary';
const SESSIONS = 500;
const PLATFORMS = 20;
/** Short, so the test can see the pin end. */
const MAX_AGE_SECONDS = 8;

/** A browser session: its tenant, its cookies, the build its document came from. */
class Session {
  readonly cookies = new Map<string, string>();
  documentBuild: string | null = null;

  constructor(
    readonly platformId: string,
    readonly token: string,
  ) {}

  async get(base: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; build: string | null }> {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await fetch(`${base}${path}`, { headers: { ...headers, ...(cookie === '' ? {} : { cookie }) } });
    await res.arrayBuffer();
    for (const set of res.headers.getSetCookie()) {
      const [pair = ''] = set.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at), pair.slice(at + 1)];
      if (/Max-Age=0/i.test(set) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, build: res.headers.get('x-canary-build') };
  }

  /** An API call of the app's (it follows membership, and sets or clears `ap_canary` accordingly). */
  async api(base: string): Promise<string | null> {
    return (await this.get(base, '/v1/flows', { authorization: `Bearer ${this.token}` })).build;
  }

  /** What a browser does when it opens the app: an API call, then the document. */
  async open(base: string): Promise<void> {
    await this.api(base);
    this.documentBuild = (await this.get(base, '/', { accept: 'text/html' })).build;
  }

  /** The document's lazily loaded asset: named after the build that served the document. */
  asset(base: string): Promise<{ status: number; build: string | null }> {
    return this.get(base, `/assets/chunk-${buildSlug(this.documentBuild ?? '')}.js`, { accept: '*/*' });
  }
}

/** Runs `task` over `items`, `concurrency` at a time. */
async function pool<T, R>(items: readonly T[], concurrency: number, task: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const i = next++;
        results[i] = await task(items[i] as T);
      }
    }),
  );
  return results;
}

describe('skew protection (real apps, edge, Redis and Postgres)', () => {
  const secrets = randomSecrets();
  let redisDb: ReservedRedisDb;
  let db: TestDatabase;
  let pgPool: pg.Pool;
  let apps: StartedApp[] = [];
  let edge: OriginEdge;
  let platforms: string[] = [];
  let sessions: Session[] = [];

  beforeAll(async () => {
    [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
    pgPool = db.pool({ max: 2 });
    // Half the tenants start on the canary, half on the primary.
    const seeded = await seedPlatforms(pgPool, Array.from({ length: PLATFORMS }, (_, i) => ({ canary: i % 2 === 0 })));
    platforms = seeded.map((p) => p.platformId);
    const topology = { redisUrl: redisDb.url, postgresUrl: db.url, ...secrets, extra: { CANARY_GUARD_ENABLED: 'false' } };
    apps = await Promise.all([
      startOriginApp(topology, { name: 'primary-app', version: PRIMARY }),
      startOriginApp(topology, { name: 'canary-app', version: CANARY, canary: true }),
    ]);
    edge = await startOriginEdge({
      redisUrl: redisDb.url,
      postgresUrl: db.url,
      primaryUrl: apps[0]?.url ?? '',
      canaryUrl: apps[1]?.url ?? '',
      ...secrets,
      bindings: { CANARY_SKEW_MAX_AGE_SECONDS: String(MAX_AGE_SECONDS) },
    });
    sessions = await Promise.all(
      Array.from({ length: SESSIONS }, async (_, i) => {
        const platformId = platforms[i % PLATFORMS] ?? '';
        return new Session(platformId, await signPrincipalJwt(secrets.jwtSecret, platformId, { expiresInSeconds: 3600 }));
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await edge?.close();
    await stopAll(apps.map((a) => a.process));
    await db?.close();
    await redisDb?.close();
  });

  it('serves 500 sessions\' assets from the build of their document after their tenant flips, the new build after the max age, and never the canary after a pause', async () => {
    await pool(sessions, 25, (s) => s.open(edge.url));
    const byBuild = (build: string): number => sessions.filter((s) => s.documentBuild === build).length;
    expect(byBuild(CANARY) + byBuild(PRIMARY)).toBe(SESSIONS);
    expect(byBuild(CANARY)).toBe(SESSIONS / 2);
    const loadedAt = Date.now();

    // Every tenant flips: the canary ones to the primary, the others in.
    for (const [i, platformId] of platforms.entries()) expect((await edge.flip(platformId, i % 2 !== 0)).status).toBe(200);
    // The open pages go on calling the API (the new build answers from the next call on), and load their asset.
    const apiBuilds = await pool(sessions, 25, (s) => s.api(edge.url));
    expect(apiBuilds.filter((b, i) => b === sessions[i]?.documentBuild)).toEqual([]);
    const within = await pool(sessions, 25, (s) => s.asset(edge.url));
    // Still inside the max age (the reads took less than it): not one asset from the other build.
    expect(Date.now() - loadedAt).toBeLessThan(MAX_AGE_SECONDS * 1000);
    const otherBuild = within.filter((r, i) => r.build !== sessions[i]?.documentBuild || r.status !== 200);
    console.log(`skew: ${SESSIONS} sessions, ${otherBuild.length} assets from the other build within the max age`);
    expect(otherBuild).toEqual([]);

    // After the max age the pin is over: the reads follow membership, i.e. the new build.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, loadedAt + MAX_AGE_SECONDS * 1000 + 1_100 - Date.now()))); // the pin's age, in whole seconds
    const after = await pool(sessions, 25, (s) => s.asset(edge.url));
    const newBuild = after.filter((r, i) => r.build === (sessions[i]?.documentBuild === CANARY ? PRIMARY : CANARY));
    console.log(`skew: ${newBuild.length} of ${SESSIONS} assets from the new build after the max age`);
    expect(newBuild.length).toBe(SESSIONS);

    // Everyone loads the app again (the canary tenants are the former primary ones), then routing is paused: a pin
    // to the canary ends at once.
    await pool(sessions, 25, (s) => s.open(edge.url));
    expect(byBuild(CANARY)).toBe(SESSIONS / 2);
    expect((await edge.call('POST', '/v1/admin/canary/pause', { reason: 'skew drill' })).status).toBe(200);
    const paused = await pool(sessions, 25, (s) => s.asset(edge.url));
    expect(paused.filter((r) => r.build === CANARY)).toEqual([]);
  });

  it('ends the pins of a platform the judge quarantines at once, and only that platform\'s', async () => {
    expect((await edge.call('POST', '/v1/admin/canary/resume', { reason: 'skew drill over' })).status).toBe(200);
    await pool(sessions, 25, (s) => s.open(edge.url));
    const onCanary = sessions.filter((s) => s.documentBuild === CANARY);
    const quarantined = onCanary[0]?.platformId ?? '';
    // The judge's own path: an explicit exclusion with the action `quarantine` (origin/judge/judge-tick.ts).
    const redis = new Redis(redisDb.url);
    try {
      const sql = createPgSqlClient(pgPool);
      const control = new CanaryControl({ sql, membership: new MembershipStore({ redis: createIoredisScriptRunner(redis), sql }) });
      await control.setChoice(quarantined, false, { actor: 'judge', reason: 'skew drill' }, 'quarantine');
    } finally {
      await redis.quit();
    }
    const reads = await pool(onCanary, 25, (s) => s.asset(edge.url));
    onCanary.forEach((s, i) => expect(reads[i]?.build).toBe(s.platformId === quarantined ? PRIMARY : CANARY));
  });
});
