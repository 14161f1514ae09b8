import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../core/membership/index.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { startEdgeHarness } from '../../testkit/edge-harness.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

// The operator plane through the real edge (workerd, local Upstash and Neon over real Redis and Postgres):
// explicit choices, per-platform status, the kill switch and the audit log.

const ADMIN_TIMEOUT_MS = 1_500;
let h: EdgeHarness;

beforeAll(async () => {
  h = await startEdgeHarness({ adminStoreTimeoutMs: ADMIN_TIMEOUT_MS });
});
afterAll(async () => {
  await h?.close();
});

async function routeOf(platformId: string, headers: Record<string, string> = {}): Promise<string | null> {
  const token = await signPrincipalJwt(h.jwtSecret, platformId);
  const res = await fetch(`${h.url}/v1/flows`, { headers: { authorization: `Bearer ${token}`, ...headers } });
  await res.arrayBuffer();
  return res.headers.get('x-origin');
}

async function json<T = Record<string, unknown>>(res: Response): Promise<T> {
  return (await res.json()) as T;
}


async function audit(query = ''): Promise<{ entries: AuditEntry[]; next: number | null }> {
  return json(await h.call('GET', `/v1/admin/canary/audit${query}`));
}

/** A platform pinned in through the admin route (so the routing cache follows at once). */
async function pinnedPlatform(): Promise<string> {
  const platformId = await h.seedPlatform();
  expect((await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true })).status).toBe(200);
  return platformId;
}

async function ensureResumed(): Promise<void> {
  expect((await h.call('POST', '/v1/admin/canary/resume', {})).status).toBe(200);
}

describe('POST /v1/admin/platforms/canary', () => {
  it('keeps its contract answer and records an audit entry with the reason and the actor', async () => {
    const platformId = await h.seedPlatform();
    const res = await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true, reason: 'ticket 42' }, { 'x-canary-actor': 'ada@ops' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ platformId, canary: true });
    expect(await routeOf(platformId)).toBe('canary');
    const [entry] = (await audit(`?platformId=${platformId}`)).entries;
    expect(entry).toMatchObject({
      actor: 'api:ada@ops',
      action: 'pin',
      platformId,
      before: { canary: false, explicit: false },
      after: { canary: true, explicit: true },
      reason: 'ticket 42',
    });
  });

  it('records the actor as api-key when no x-canary-actor is given', async () => {
    const platformId = await h.seedPlatform();
    await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: false });
    expect((await audit(`?platformId=${platformId}`)).entries[0]).toMatchObject({ actor: 'api-key', action: 'exclude', reason: null });
  });

  it.each([
    ['a tab', 'ada\tops'],
    ['101 characters', 'a'.repeat(101)],
  ])('refuses an x-canary-actor with %s (400 invalid_actor), changing nothing', async (_what, actor) => {
    const platformId = await h.seedPlatform();
    const res = await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true }, { 'x-canary-actor': actor });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: 'invalid_actor' } });
    expect(await routeOf(platformId)).toBe('primary');
  });

  it('refuses a reason over 500 characters', async () => {
    const platformId = await h.seedPlatform();
    const res = await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true, reason: 'x'.repeat(501) });
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: 'invalid_body' } });
  });
});

describe('GET and DELETE /v1/admin/platforms/canary/:platformId', () => {
  it('tells where a platform goes and why, and clearing its choice makes it follow the rollout again', async () => {
    const platformId = await h.seedPlatform();
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${platformId}`))).toEqual({ platformId, canary: false, source: 'default' });
    await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true });
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${platformId}`))).toEqual({ platformId, canary: true, source: 'explicit' });

    const cleared = await h.call('DELETE', `/v1/admin/platforms/canary/${platformId}`, { reason: 'done testing' });
    expect(cleared.status).toBe(200);
    expect(await cleared.json()).toEqual({ platformId, canary: false });
    expect(await routeOf(platformId)).toBe('primary');
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${platformId}`))).toEqual({ platformId, canary: false, source: 'default' });
    expect((await audit(`?platformId=${platformId}`)).entries[0]).toMatchObject({ action: 'follow', reason: 'done testing', after: { explicit: false } });
  });

  it('accepts DELETE without a body', async () => {
    const platformId = await h.seedPlatform({ canary: true });
    const res = await fetch(`${h.url}/v1/admin/platforms/canary/${platformId}`, { method: 'DELETE', headers: { 'api-key': h.apiKey } });
    expect(res.status).toBe(200);
  });

  it.each(['GET', 'DELETE'])('answers %s for an unknown platform with 404 platform_not_found', async (method) => {
    const res = await h.call(method, '/v1/admin/platforms/canary/no-such-platform');
    expect(res.status).toBe(404);
    expect(await json(res)).toMatchObject({ error: { code: 'platform_not_found' } });
  });

  it('answers 401 without the api-key and 405 for other methods', async () => {
    expect((await fetch(`${h.url}/v1/admin/platforms/canary/x`)).status).toBe(401);
    const res = await h.call('PATCH', '/v1/admin/platforms/canary/x', {});
    expect(res.status).toBe(405);
    expect(await json(res)).toMatchObject({ error: { code: 'method_not_allowed' } });
  });
});

describe('GET /v1/admin/platforms/canary', () => {
  it('lists pinned and excluded platforms (sorted), the rollout and the pause state', async () => {
    const [a, b] = [await h.seedPlatform(), await h.seedPlatform()];
    await h.call('POST', '/v1/admin/platforms/canary', { platformId: a, canary: true });
    await h.call('POST', '/v1/admin/platforms/canary', { platformId: b, canary: false });
    const list = await json<{ platformIds: string[]; excluded: string[]; rollout: { percent: number; salt: string }; paused: boolean }>(
      await h.call('GET', '/v1/admin/platforms/canary'),
    );
    expect(list.platformIds).toContain(a);
    expect(list.platformIds).toEqual([...list.platformIds].sort());
    expect(list.excluded).toContain(b);
    expect(list.platformIds).not.toContain(b);
    expect(list.rollout).toEqual({ percent: 0, salt: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(list.paused).toBe(false);
  });
});

describe('a plan row written the way it was before the rollout existed', () => {
  it('pins the platform when only platform_id and canary = true are inserted (canary_explicit left at its default)', async () => {
    const platformId = await h.seedPlatform();
    await h.pool.query('DELETE FROM platform_plan WHERE platform_id = $1', [platformId]);
    await h.pool.query('INSERT INTO platform_plan (platform_id, canary) VALUES ($1, true)', [platformId]);
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${platformId}`))).toEqual({ platformId, canary: true, source: 'explicit' });
    expect((await json<{ platformIds: string[] }>(await h.call('GET', '/v1/admin/platforms/canary'))).platformIds).toContain(platformId);
    // A rollout change drops the cached cohort (a flip no longer does: it moves one platform in place), so the next
    // request reads the row inserted behind the cache's back.
    await h.call('PUT', '/v1/admin/canary/rollout', { percent: 0 });
    expect(await routeOf(platformId)).toBe('canary');
  });
});

describe('the kill switch (POST /v1/admin/canary/pause and /resume)', () => {
  it('sends every request to the primary from the very next one, cookie requests too, and resume restores the cohort exactly', async () => {
    const pinned = await h.seedPlatform();
    await h.call('POST', '/v1/admin/platforms/canary', { platformId: pinned, canary: true });
    const token = await signPrincipalJwt(h.jwtSecret, pinned);
    const first = await fetch(`${h.url}/`, { headers: { authorization: `Bearer ${token}` } });
    await first.arrayBuffer();
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie).toMatch(/^ap_canary=/);
    const cookieRoute = async (): Promise<string | null> => {
      const res = await fetch(`${h.url}/assets/app.js`, { headers: { cookie } });
      await res.arrayBuffer();
      return res.headers.get('x-origin');
    };
    expect(await cookieRoute()).toBe('canary');

    const paused = await h.call('POST', '/v1/admin/canary/pause', { reason: 'error spike' }, { 'x-canary-actor': 'oncall' });
    expect(await paused.json()).toEqual({ paused: true });
    expect(await routeOf(pinned)).toBe('primary');
    expect(await cookieRoute()).toBe('primary');
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${pinned}`))).toEqual({ platformId: pinned, canary: false, source: 'paused' });
    expect(await json(await h.call('GET', '/v1/admin/platforms/canary'))).toMatchObject({ paused: true, platformIds: expect.arrayContaining([pinned]) });

    const resumed = await h.call('POST', '/v1/admin/canary/resume');
    expect(await resumed.json()).toEqual({ paused: false });
    expect(await routeOf(pinned)).toBe('canary');
    expect(await cookieRoute()).toBe('canary');

    const [resumeEntry, pauseEntry] = (await audit('?limit=2')).entries;
    expect(pauseEntry).toMatchObject({ actor: 'api:oncall', action: 'pause', platformId: null, reason: 'error spike', before: { paused: false }, after: { paused: true } });
    expect(resumeEntry).toMatchObject({ actor: 'api-key', action: 'resume', before: { paused: true }, after: { paused: false } });
  });

  it('gets through a slow database within ADMIN_STORE_TIMEOUT_MS', async () => {
    const blocker = new pg.Client({ connectionString: h.db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE canary_rollout IN ACCESS EXCLUSIVE MODE');
      const pausing = h.call('POST', '/v1/admin/canary/pause', { reason: 'slow database drill' });
      // The lock holds the pause for a moment (a slow Postgres), then lets it through.
      await new Promise((resolve) => setTimeout(resolve, ADMIN_TIMEOUT_MS / 3));
      await blocker.query('COMMIT');
      const res = await pausing;
      expect(res.status).toBe(200);
      expect(await routeOf(await pinnedPlatform())).toBe('primary');
    } finally {
      await blocker.end();
      await ensureResumed();
    }
  });

  it('answers 503 saying the outcome is unknown when the database does not answer in time, and never leaves the cache disagreeing', async () => {
    const pinned = await pinnedPlatform();
    expect(await routeOf(pinned)).toBe('canary'); // cached: not paused
    const blocker = new pg.Client({ connectionString: h.db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE canary_rollout IN ACCESS EXCLUSIVE MODE');
      const res = await h.call('POST', '/v1/admin/canary/pause', {});
      expect(res.status).toBe(503);
      expect(await json(res)).toMatchObject({ error: { code: 'store_unavailable', message: expect.stringContaining('may or may not have been applied') } });
    } finally {
      await blocker.query('COMMIT');
      await blocker.end();
    }
    // Whatever Postgres ended up with, routing follows it (the cache was reset).
    const { rows } = await h.pool.query<{ paused: boolean }>('SELECT paused FROM canary_rollout');
    expect(await routeOf(pinned)).toBe(rows[0]?.paused === true ? 'primary' : 'canary');
    await ensureResumed();
  });

  it('answers 401 without the api-key, 405 for GET, 400 for a malformed body', async () => {
    expect((await fetch(`${h.url}/v1/admin/canary/pause`, { method: 'POST' })).status).toBe(401);
    expect((await h.call('GET', '/v1/admin/canary/pause')).status).toBe(405);
    const bad = await fetch(`${h.url}/v1/admin/canary/pause`, { method: 'POST', headers: { 'api-key': h.apiKey }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ error: { code: 'invalid_json' } });
    const extra = await h.call('POST', '/v1/admin/canary/pause', { reason: 'x', paused: true });
    expect(extra.status).toBe(400);
  });

  it('answers 413 for a body over 4 KiB', async () => {
    const res = await h.call('POST', '/v1/admin/canary/pause', { reason: 'x'.repeat(5_000) });
    expect(res.status).toBe(413);
  });
});

describe('GET /v1/admin/canary/audit', () => {
  it('lists newest first with a default limit of 50, keyset pages with before=<id>, and filters by platform', async () => {
    const platformId = await h.seedPlatform();
    for (let i = 0; i < 55; i++) await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: i % 2 === 0, reason: `step ${i}` });
    const first = await audit(`?platformId=${platformId}`);
    expect(first.entries).toHaveLength(50);
    expect(first.entries[0]?.reason).toBe('step 54');
    const ids = first.entries.map((e) => e.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(first.next).toBe(ids.at(-1));
    const second = await audit(`?platformId=${platformId}&before=${first.next}`);
    expect(second.entries.map((e) => e.reason)).toEqual(['step 4', 'step 3', 'step 2', 'step 1', 'step 0']);
    expect(second.next).toBeNull();
    expect(second.entries.every((e) => e.platformId === platformId)).toBe(true);
    expect((await audit('?limit=3')).entries).toHaveLength(3);
  });

  it.each(['?limit=0', '?limit=501', '?limit=abc', '?before=-1'])('answers 400 invalid_query for %s', async (query) => {
    const res = await h.call('GET', `/v1/admin/canary/audit${query}`);
    expect(res.status).toBe(400);
    expect(await json(res)).toMatchObject({ error: { code: 'invalid_query' } });
  });
});

describe('a change and its audit entry', () => {
  it('are written together: when the entry cannot be written, the change is not made either', async () => {
    const platformId = await h.seedPlatform();
    await h.pool.query(`ALTER TABLE canary_audit ADD CONSTRAINT refuse_drill CHECK (reason IS DISTINCT FROM 'refuse this entry')`);
    try {
      const res = await h.call('POST', '/v1/admin/platforms/canary', { platformId, canary: true, reason: 'refuse this entry' });
      expect(res.status).toBe(500);
      expect(await json(res)).toMatchObject({ error: { code: 'internal_error' } });
      const paused = await h.call('POST', '/v1/admin/canary/pause', { reason: 'refuse this entry' });
      expect(paused.status).toBe(500);
    } finally {
      await h.pool.query('ALTER TABLE canary_audit DROP CONSTRAINT refuse_drill');
    }
    const plan = await h.pool.query<{ canary: boolean; canary_explicit: boolean }>('SELECT canary, canary_explicit FROM platform_plan WHERE platform_id = $1', [platformId]);
    expect(plan.rows[0]).toEqual({ canary: false, canary_explicit: false });
    expect((await h.pool.query<{ paused: boolean }>('SELECT paused FROM canary_rollout')).rows[0]?.paused).toBe(false);
    expect((await audit(`?platformId=${platformId}`)).entries).toEqual([]);
    expect(await routeOf(platformId)).toBe('primary');
  });
});

describe('store faults', () => {
  it('changes nothing (audit included) and answers 503 when Postgres is down', async () => {
    const platformId = await h.seedPlatform();
    const before = (await audit('?limit=1')).entries[0]?.id;
    await h.stopNeon();
    try {
      for (const [method, path, body] of [
        ['POST', '/v1/admin/platforms/canary', { platformId, canary: true }],
        ['POST', '/v1/admin/canary/pause', {}],
        ['DELETE', `/v1/admin/platforms/canary/${platformId}`, {}],
      ] as const) {
        const res = await h.call(method, path, body);
        expect(res.status, `${method} ${path}`).toBe(503);
        expect(await json(res)).toMatchObject({ error: { code: 'store_unavailable', message: expect.stringContaining('was not applied') } });
      }
    } finally {
      await h.startNeon();
    }
    expect((await audit('?limit=1')).entries[0]?.id).toBe(before);
    expect(await json(await h.call('GET', `/v1/admin/platforms/canary/${platformId}`))).toMatchObject({ canary: false, source: 'default' });
  });

  it('answers 503 cache_invalidation_failed when Redis is down after the pause was committed, and a retry completes it', async () => {
    const pinned = await pinnedPlatform();
    expect(await routeOf(pinned)).toBe('canary');
    await h.stopUpstash();
    try {
      const res = await h.call('POST', '/v1/admin/canary/pause', {});
      expect(res.status).toBe(503);
      expect(await json(res)).toMatchObject({ error: { code: 'cache_invalidation_failed' } });
      expect(await routeOf(pinned)).toBe('primary'); // with Redis down the edge reads Postgres, which says paused
    } finally {
      await h.startUpstash();
    }
    expect((await h.call('POST', '/v1/admin/canary/pause', {})).status).toBe(200);
    expect(await routeOf(pinned)).toBe('primary');
    await ensureResumed();
    expect(await routeOf(pinned)).toBe('canary');
  });
});
