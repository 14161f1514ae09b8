import { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { COHORT_KEY, CanaryControl, MembershipStore, flowPlatformKey } from '../../core/membership/index.js';
import type { MembershipStoreOptions, ScriptRunner, SqlClient } from '../../core/membership/index.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { seedFlow as seedFlowRow, seedPlatform as seedPlatformRow, seedPlatformRange } from '../../dev/seed/seed-data.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

let db: TestDatabase;
let redisDb: ReservedRedisDb;
let redis: Redis;
let pool: pg.Pool;

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase(), reserveRedisDb()]);
  redis = new Redis(redisDb.url);
  pool = db.pool({ max: 4 });
});

afterAll(async () => {
  await redis.quit();
  await Promise.all([db.close(), redisDb.close()]);
});

afterEach(async () => {
  await redis.flushdb();
});

/** Counts calls so tests can assert round trips and queries. */
function counting<T extends ScriptRunner | SqlClient>(inner: T): { client: T; calls: string[] } {
  const calls: string[] = [];
  if ('run' in inner) {
    const client: ScriptRunner = { run: (script, keys, args) => (calls.push(script.name), inner.run(script, keys, args)) };
    return { client: client as T, calls };
  }
  const client: SqlClient = { query: (text, params) => (calls.push(text.trim().split(/\s+/).slice(0, 4).join(' ')), inner.query(text, params)) };
  return { client: client as T, calls };
}

const META = { actor: 'test', reason: null };
/** The operator plane over a store (writes through Postgres, then invalidates that store's cache). */
const controlOf = (membership: MembershipStore): CanaryControl => new CanaryControl({ sql: createPgSqlClient(pool), membership });

function newStore(overrides: Partial<MembershipStoreOptions> = {}) {
  const r = counting(createIoredisScriptRunner(redis));
  const s = counting(createPgSqlClient(pool));
  const store = new MembershipStore({ redis: r.client, sql: s.client, ...overrides });
  return { store, redisCalls: r.calls, sqlCalls: s.calls };
}

const seedPlatform = (canary: boolean): Promise<string> => seedPlatformRow(pool, { canary });
const seedFlow = async (platformId: string): Promise<string> => (await seedFlowRow(pool, platformId)).flowId;

/**
 * A SQL client whose cohort query really runs (so it reads the database as it is now) and then is held until the
 * test releases it: the window in which a flip can land between a fill's read and its install.
 */
function heldCohortRead(): { sql: SqlClient; readDone: Promise<void>; release: () => void } {
  const realSql = createPgSqlClient(pool);
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  let markRead: () => void = () => undefined;
  const readDone = new Promise<void>((resolve) => (markRead = resolve));
  const sql: SqlClient = {
    async query(text, params) {
      const rows = await realSql.query(text, params);
      if (text.includes('AS pinned')) {
        markRead();
        await held;
      }
      return rows as never;
    },
  };
  return { sql, readDone, release };
}

describe('MembershipStore.lookup', () => {
  it('loads the cohort once on a miss, then answers from one script call with no query', async () => {
    const canary = await seedPlatform(true);
    const { store, redisCalls, sqlCalls } = newStore();
    const first = await store.lookup({ kind: 'platform', platformId: canary });
    expect(first).toMatchObject({ canary: true, authority: 'database', trace: { cache: 'miss', database: 'cohort' } });
    redisCalls.length = 0;
    sqlCalls.length = 0;
    const second = await store.lookup({ kind: 'platform', platformId: canary });
    expect(second).toMatchObject({ canary: true, authority: 'cache', trace: { cache: 'hit', database: 'none' } });
    expect(redisCalls).toEqual(['canary-lookup']);
    expect(sqlCalls).toEqual([]);
  });

  it('caches an empty cohort as loaded, not as a miss', async () => {
    const other = await seedPlatform(false);
    await pool.query('UPDATE platform_plan SET canary = false');
    const { store } = newStore();
    await store.lookup({ kind: 'platform', platformId: other });
    expect(await store.lookup({ kind: 'platform', platformId: other })).toMatchObject({ canary: false, authority: 'cache' });
  });

  it('resolves a webhook flow and its membership in one script call once warm', async () => {
    const platformId = await seedPlatform(true);
    const flowId = await seedFlow(platformId);
    const { store, redisCalls, sqlCalls } = newStore();
    expect(await store.lookup({ kind: 'flow', flowId })).toMatchObject({ platformId, canary: true, authority: 'database' });
    expect(await redis.get(flowPlatformKey(flowId))).toBe(platformId);
    await store.lookup({ kind: 'platform', platformId }); // warm the cohort
    redisCalls.length = 0;
    sqlCalls.length = 0;
    expect(await store.lookup({ kind: 'flow', flowId })).toMatchObject({ platformId, canary: true, authority: 'cache' });
    expect(redisCalls).toEqual(['canary-lookup']);
    expect(sqlCalls).toEqual([]);
  });

  it('caches an unknown flow negatively', async () => {
    const { store, sqlCalls } = newStore();
    const flowId = `missing_${crypto.randomUUID()}`;
    expect(await store.lookup({ kind: 'flow', flowId })).toMatchObject({ platformId: null, canary: false, authority: 'database' });
    sqlCalls.length = 0;
    expect(await store.lookup({ kind: 'flow', flowId })).toMatchObject({ platformId: null, authority: 'cache', trace: { cache: 'negative' } });
    expect(sqlCalls).toEqual([]);
    const ttl = await redis.ttl(flowPlatformKey(flowId));
    expect(ttl).toBeGreaterThan(0); // -1 would mean "no expiry", -2 "no key"
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it('reads Postgres when Redis fails', async () => {
    const platformId = await seedPlatform(true);
    const broken: ScriptRunner = { run: () => Promise.reject(new Error('ECONNREFUSED')) };
    const fallbacks: string[] = [];
    const store = new MembershipStore({ redis: broken, sql: createPgSqlClient(pool), onFallback: (e) => fallbacks.push(e.stage) });
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'database', trace: { cache: 'error', database: 'point' } });
    expect(fallbacks).toEqual(['cache-lookup']);
  });

  it('fails open to non-canary with authority none when both stores fail', async () => {
    const store = new MembershipStore({
      redis: { run: () => Promise.reject(new Error('redis down')) },
      sql: { query: () => Promise.reject(new Error('postgres down')) },
    });
    expect(await store.lookup({ kind: 'platform', platformId: 'p' })).toMatchObject({ platformId: 'p', canary: false, authority: 'none' });
    expect(await store.lookup({ kind: 'flow', flowId: 'f' })).toMatchObject({ platformId: null, canary: false, authority: 'none' });
  });

  it('does not stampede Postgres when a burst meets a cold cache, with the default wait budget', async () => {
    const platformId = await seedPlatform(true);
    const runner = counting(createIoredisScriptRunner(redis));
    const realSql = createPgSqlClient(pool);
    const sqlCalls: string[] = [];
    // The one fill is held until every other reader has polled at least twice, so the fill is provably slower than
    // their first waits; they must keep waiting for it rather than query Postgres themselves.
    let readersPolled: () => void = () => undefined;
    const polled = new Promise<void>((resolve) => (readersPolled = resolve));
    const heldSql: SqlClient = {
      async query(text, params) {
        sqlCalls.push(text);
        if (text.includes('AS pinned')) await polled;
        return realSql.query(text, params);
      },
    };
    const countingRunner: ScriptRunner = {
      async run(script, keys, args) {
        const result = await runner.client.run(script, keys, args);
        if (runner.calls.filter((c) => c === 'canary-lookup').length >= 2 * 50) readersPolled();
        return result;
      },
    };
    const store = new MembershipStore({ redis: countingRunner, sql: heldSql });
    const answers = await Promise.all(Array.from({ length: 50 }, () => store.lookup({ kind: 'platform', platformId })));
    expect(answers.every((a) => a.canary)).toBe(true);
    expect(sqlCalls).toHaveLength(1);
  });

  it('treats an empty platform id as never a member (the loaded marker is not a platform)', async () => {
    await seedPlatform(true);
    const { store } = newStore();
    await store.lookup({ kind: 'platform', platformId: 'warm-up' });
    expect(await store.lookup({ kind: 'platform', platformId: '' })).toMatchObject({ canary: false, authority: 'cache' });
  });

  it('replaces a cohort key of the wrong type (e.g. a JSON list) instead of failing forever', async () => {
    const platformId = await seedPlatform(true);
    await redis.set(COHORT_KEY, JSON.stringify([platformId]));
    const { store } = newStore();
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'database' });
    expect(await redis.type(COHORT_KEY)).toBe('set');
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });

  it('releases its fill lock when the fill fails, so the next reader fills at once', async () => {
    const platformId = await seedPlatform(true);
    const failing = new MembershipStore({
      redis: createIoredisScriptRunner(redis),
      sql: { query: () => Promise.reject(new Error('postgres down')) },
    });
    expect(await failing.lookup({ kind: 'platform', platformId })).toMatchObject({ authority: 'none' });
    expect(await redis.exists('canary-platform-ids:fill-lock')).toBe(0);
    const { store } = newStore();
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, trace: { waits: 0, database: 'cohort' } });
  });

  it('releases a resolver fill lock when resolving fails', async () => {
    const flowId = `flow_${crypto.randomUUID()}`;
    const failing = new MembershipStore({
      redis: createIoredisScriptRunner(redis),
      sql: { query: () => Promise.reject(new Error('postgres down')) },
    });
    expect(await failing.lookup({ kind: 'flow', flowId })).toMatchObject({ authority: 'none' });
    expect(await redis.exists(`${flowPlatformKey(flowId)}:fill-lock`)).toBe(0);
  });

  it('answers for a cohort of 100,000 with one script call', async () => {
    await seedPlatformRange(pool, { prefix: 'bulk_', count: 100_000, canary: true });
    try {
      const { store, redisCalls, sqlCalls } = newStore();
      await store.lookup({ kind: 'platform', platformId: 'bulk_1' });
      expect(await redis.scard(COHORT_KEY)).toBeGreaterThanOrEqual(100_001);
      redisCalls.length = 0;
      sqlCalls.length = 0;
      expect(await store.lookup({ kind: 'platform', platformId: 'bulk_99999' })).toMatchObject({ canary: true, authority: 'cache' });
      expect(redisCalls).toHaveLength(1);
      expect(sqlCalls).toHaveLength(0);
    } finally {
      await seedPlatformRange(pool, { prefix: 'bulk_', count: 0, canary: true });
    }
  });
});

describe('MembershipStore refresh-ahead', () => {
  // refreshAheadSeconds above the TTL: every hit finds the cohort "about to expire".
  const alwaysRefresh = { cohortTtlSeconds: 60, refreshAheadSeconds: 61 };

  it('does not refresh a freshly cached cohort with the defaults', async () => {
    const platformId = await seedPlatform(true);
    const { store } = newStore();
    await store.lookup({ kind: 'platform', platformId });
    expect((await store.lookup({ kind: 'platform', platformId })).trace.refresh).toBe(false);
  });

  it('reloads a cohort about to expire in the background while answers keep coming from the cache', async () => {
    const platformId = await seedPlatform(false);
    const { store, sqlCalls } = newStore(alwaysRefresh);
    await store.lookup({ kind: 'platform', platformId }); // cold fill
    await pool.query('UPDATE platform_plan SET canary = true, canary_explicit = true WHERE platform_id = $1', [platformId]); // no invalidation
    sqlCalls.length = 0;
    const tasks: Promise<void>[] = [];
    const answer = await store.lookup({ kind: 'platform', platformId }, { defer: (t) => tasks.push(t) });
    expect(answer).toMatchObject({ canary: false, authority: 'cache', trace: { cache: 'hit', refresh: true } });
    expect(tasks).toHaveLength(1);
    await Promise.all(tasks);
    expect(sqlCalls).toHaveLength(1);
    // This hit finds the refreshed cohort "about to expire" too and starts another refresh: awaited, so no query of
    // this test is still running when the next one begins.
    expect(await store.lookup({ kind: 'platform', platformId }, { defer: (t) => tasks.push(t) })).toMatchObject({ canary: true, authority: 'cache' });
    await Promise.all(tasks);
    expect(await redis.ttl(COHORT_KEY)).toBeGreaterThan(55);
  });

  it('lets only one reader refresh at a time', async () => {
    const platformId = await seedPlatform(true);
    const held = heldCohortRead();
    const cold = new MembershipStore({ redis: createIoredisScriptRunner(redis), sql: createPgSqlClient(pool), ...alwaysRefresh });
    await cold.lookup({ kind: 'platform', platformId });
    const store = new MembershipStore({ redis: createIoredisScriptRunner(redis), sql: held.sql, ...alwaysRefresh });
    const tasks: Promise<void>[] = [];
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => store.lookup({ kind: 'platform', platformId }, { defer: (t) => tasks.push(t) })),
    );
    expect(answers.every((a) => a.canary && a.authority === 'cache')).toBe(true);
    expect(tasks).toHaveLength(1);
    await held.readDone;
    held.release();
    await Promise.all(tasks);
  });

  it('installs a refresh that read before a flip with the flip applied over it', async () => {
    const platformId = await seedPlatform(false);
    const runner = createIoredisScriptRunner(redis);
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });
    await admin.lookup({ kind: 'platform', platformId }); // cohort cached: not canary
    const held = heldCohortRead();
    const refresher = new MembershipStore({ redis: runner, sql: held.sql, ...alwaysRefresh });
    const tasks: Promise<void>[] = [];
    await refresher.lookup({ kind: 'platform', platformId }, { defer: (t) => tasks.push(t) });
    await held.readDone; // the refresh has read "not canary"
    await controlOf(admin).setChoice(platformId, true, META);
    held.release();
    await Promise.all(tasks);
    // The refresh went in (a flip never costs a reload), and the flip it had not seen is in it.
    expect(await redis.ttl(COHORT_KEY)).toBeGreaterThan(55);
    expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });

  it('drops a refresh that read before a rollout change (a change of every platform)', async () => {
    const platformId = await seedPlatform(false);
    const runner = createIoredisScriptRunner(redis);
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });
    await admin.lookup({ kind: 'platform', platformId });
    const held = heldCohortRead();
    const refresher = new MembershipStore({ redis: runner, sql: held.sql, ...alwaysRefresh });
    const tasks: Promise<void>[] = [];
    await refresher.lookup({ kind: 'platform', platformId }, { defer: (t) => tasks.push(t) });
    await held.readDone;
    await controlOf(admin).setPaused(true, META);
    held.release();
    await Promise.all(tasks);
    try {
      expect(await redis.exists(COHORT_KEY)).toBe(0);
      expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: false, source: 'paused' });
    } finally {
      await controlOf(admin).setPaused(false, META);
    }
  });
});

describe('one-platform changes applied in place', () => {
  it('moves the platform inside the cached cohort: the next lookup is a cache hit, no reload, no query', async () => {
    const platformId = await seedPlatform(false);
    const { store, redisCalls, sqlCalls } = newStore();
    await store.lookup({ kind: 'platform', platformId }); // cold fill
    for (const [canary, choice] of [[true, 'in'], [false, 'out']] as const) {
      expect(await controlOf(store).setChoice(platformId, canary, META)).toMatchObject({ invalidated: true });
      redisCalls.length = 0;
      sqlCalls.length = 0;
      expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary, source: 'explicit', authority: 'cache', trace: { cache: 'hit' } });
      expect([redisCalls, sqlCalls]).toEqual([['canary-lookup'], []]);
      expect(await redis.sismember(COHORT_KEY, platformId)).toBe(canary ? 1 : 0);
      expect(await redis.sismember('canary-platform-ids:excluded', platformId)).toBe(choice === 'out' ? 1 : 0);
    }
    await controlOf(store).clearChoice(platformId, META);
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: false, source: 'default', authority: 'cache' });
  });

  it('ignores a change that arrives after a newer one of the same platform (reordered cache updates)', async () => {
    const platformId = await seedPlatform(false);
    const { store } = newStore();
    await store.lookup({ kind: 'platform', platformId });
    expect(await store.follow({ scope: 'platform', platformId, choice: 'in', version: 20 })).toBe(true);
    expect(await store.follow({ scope: 'platform', platformId, choice: 'out', version: 19 })).toBe(true);
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, source: 'explicit', authority: 'cache' });
  });

  it('keeps a change recorded while nothing was cached, for the next fill to merge', async () => {
    const platformId = await seedPlatform(false);
    const held = heldCohortRead();
    const runner = createIoredisScriptRunner(redis);
    const reader = new MembershipStore({ redis: runner, sql: held.sql });
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });
    const coldFill = reader.lookup({ kind: 'platform', platformId }); // cold: its fill reads "not canary"
    await held.readDone;
    await controlOf(admin).setChoice(platformId, true, META); // nothing cached to move it in: only recorded
    held.release();
    expect((await coldFill).canary).toBe(false);
    expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });

  it('lets a fill whose snapshot already saw a change keep it, and a late copy of an older change cannot undo it', async () => {
    const platformId = await seedPlatform(false);
    const { store } = newStore();
    await controlOf(store).setChoice(platformId, true, META); // version v (recorded while nothing was cached)
    await redis.del('canary-platform-ids:versions'); // as if the record had been pruned
    await store.lookup({ kind: 'platform', platformId }); // the fill's snapshot lists v for the platform
    const [recorded] = (await redis.hget('canary-platform-ids:versions', platformId))?.split(':') ?? [];
    expect(Number(recorded)).toBeGreaterThan(0);
    expect(await store.follow({ scope: 'platform', platformId, choice: 'out', version: Number(recorded) - 1 })).toBe(true);
    expect(await store.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });
});

describe('CanaryControl.setChoice', () => {
  it('holds from the very next lookup in both directions', async () => {
    const platformId = await seedPlatform(false);
    const { store } = newStore();
    expect((await store.lookup({ kind: 'platform', platformId })).canary).toBe(false);
    expect(await controlOf(store).setChoice(platformId, true, META)).toEqual({ value: { platformId, canary: true }, invalidated: true });
    expect((await store.lookup({ kind: 'platform', platformId })).canary).toBe(true);
    await controlOf(store).setChoice(platformId, false, META);
    expect((await store.lookup({ kind: 'platform', platformId })).canary).toBe(false);
  });

  it('reports an unknown platform without touching the cache', async () => {
    const { store, redisCalls } = newStore();
    expect(await controlOf(store).setChoice('no-such-platform', true, META)).toBeNull();
    expect(redisCalls).toEqual([]);
  });

  it('creates the plan row for a platform that has none', async () => {
    const id = `plat_${crypto.randomUUID().slice(0, 12)}`;
    await pool.query('INSERT INTO platform (id, name) VALUES ($1, $1)', [id]);
    const { store } = newStore();
    expect(await controlOf(store).setChoice(id, true, META)).toMatchObject({ invalidated: true });
    expect((await controlOf(store).overview()).pinned).toContain(id);
  });

  it('never lets a fill that read before the flip cache stale membership after it: the flip is applied over the fill', async () => {
    const platformId = await seedPlatform(false);
    const held = heldCohortRead();
    const runner = createIoredisScriptRunner(redis);
    const reader = new MembershipStore({ redis: runner, sql: held.sql });
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });

    const staleLookup = reader.lookup({ kind: 'platform', platformId });
    await held.readDone;
    await controlOf(admin).setChoice(platformId, true, META);
    held.release();
    expect((await staleLookup).canary).toBe(false); // its own answer predates the flip
    expect(await redis.exists(COHORT_KEY)).toBe(1); // ...and it was installed, with the flip merged in
    expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });

  it('refuses the install of a fill when Redis lost the generation key meanwhile', async () => {
    const platformId = await seedPlatform(false);
    const held = heldCohortRead();
    const runner = createIoredisScriptRunner(redis);
    const reader = new MembershipStore({ redis: runner, sql: held.sql });
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });

    const staleLookup = reader.lookup({ kind: 'platform', platformId });
    await held.readDone;
    await controlOf(admin).setChoice(platformId, true, META);
    // Eviction, failover or a restart of a non-persistent Redis between the flip and the stale install.
    await redis.del('canary-platform-ids:generation', 'canary-platform-ids:versions');
    held.release();
    expect((await staleLookup).canary).toBe(false);
    expect(await redis.exists(COHORT_KEY)).toBe(0);
    expect((await admin.lookup({ kind: 'platform', platformId })).canary).toBe(true);
    expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: true, authority: 'cache' });
  });

  it('never lets a fill that read before a pause install an un-paused state after it', async () => {
    const platformId = await seedPlatform(true);
    const held = heldCohortRead();
    const runner = createIoredisScriptRunner(redis);
    const reader = new MembershipStore({ redis: runner, sql: held.sql });
    const admin = new MembershipStore({ redis: runner, sql: createPgSqlClient(pool) });
    try {
      const staleLookup = reader.lookup({ kind: 'platform', platformId });
      await held.readDone; // the fill has read "not paused"
      expect(await controlOf(admin).setPaused(true, META)).toMatchObject({ value: { paused: true, changed: true }, invalidated: true });
      held.release();
      expect(await staleLookup).toMatchObject({ canary: true, source: 'explicit' }); // its own answer predates the pause
      expect(await redis.exists(COHORT_KEY)).toBe(0); // ...but it was not installed
      expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: false, source: 'paused' });
      expect(await admin.lookup({ kind: 'platform', platformId })).toMatchObject({ canary: false, source: 'paused', authority: 'cache' });
    } finally {
      await controlOf(admin).setPaused(false, META);
    }
  });

  it('records each flip on the flips stream for the origin', async () => {
    const platformId = await seedPlatform(false);
    const { store } = newStore();
    await controlOf(store).setChoice(platformId, true, META);
    const entries = await redis.xrange('canary-platform-flips', '-', '+');
    const fields = entries.at(-1)?.[1] ?? [];
    expect(fields).toEqual(['scope', 'platform', 'platformId', platformId, 'choice', 'in']);
    await controlOf(store).setRollout(500, META);
    expect((await redis.xrange('canary-platform-flips', '-', '+')).at(-1)?.[1]).toEqual(['scope', 'all', 'generation', expect.any(String)]);
    await controlOf(store).setRollout(0, META);
  });

  it('lists the pinned cohort sorted', async () => {
    const ids = await Promise.all([seedPlatform(true), seedPlatform(true), seedPlatform(false)]);
    const { store } = newStore();
    const listed = (await controlOf(store).overview()).pinned;
    expect(listed).toEqual([...listed].sort());
    expect(listed).toEqual(expect.arrayContaining([ids[0], ids[1]]));
    expect(listed).not.toContain(ids[2]);
  });
});
