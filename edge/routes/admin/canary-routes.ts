import { Hono } from 'hono';
import type { Context } from 'hono';
import { mintOverride } from '../../../core/auth/override-token.js';
import { readGuardWindow } from '../../../core/health/guard-window.js';
import { errorRate } from '../../../core/health/health-window.js';
import { z } from 'zod/mini';
import { ApiError } from '../../../core/http/api-error.js';
import { CanaryControl, StoreError } from '../../../core/membership/index.js';
import type { RolloutRecord } from '../../../core/membership/index.js';
import { percentToBasisPoints } from '../../../core/rollout/bucket.js';
import type { AppEnv } from '../../types.js';
import { adminBodyLimit, methodNotAllowed, readBody, reasonField, requireApiKey, requireInvalidated, withStore } from './admin-support.js';

const PATH = '/v1/admin/canary';

// A percentage with at most two decimals: 12.34 is 1234 basis points, 12.345 is refused rather than rounded.
const percentField = () =>
  z.number().check(
    z.gte(0),
    z.lte(100),
    z.refine((p) => Math.abs(p * 100 - Math.round(p * 100)) < 1e-9, 'at most two decimals'),
  );
const rolloutBody = z.strictObject({ percent: percentField(), reason: reasonField() });
const reasonBody = z.strictObject({ reason: reasonField() });

const overrideBody = z.strictObject({
  target: z.enum(['canary', 'primary']),
  ttlSeconds: z.number().check(z.int(), z.gte(60), z.lte(86_400)),
  platformId: z.optional(z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, 'a platform id of 1 to 128 characters [A-Za-z0-9_-]'))),
  reason: reasonField(),
});

const auditQuery = z.object({
  limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(500)), 50),
  platformId: z.optional(z.string().check(z.minLength(1), z.maxLength(128))),
  before: z.optional(z.coerce.number().check(z.int(), z.positive())),
});

/** A Redis read of an admin route: an unreachable Redis is a 503 with the cause logged. */
async function withRedis<T>(c: Context<AppEnv>, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    c.get('services').reportStoreError('admin-health', error);
    throw new ApiError(503, 'store_unavailable', 'Redis (Upstash) is unavailable, so the health counts cannot be read. Retry later.');
  }
}

/** The rollout as admin answers show it. */
export function rolloutView(rollout: RolloutRecord): Record<string, unknown> {
  return {
    percent: CanaryControl.percentOf(rollout),
    salt: rollout.salt,
    paused: rollout.paused,
    updatedAt: rollout.updatedAt,
    updatedBy: rollout.updatedBy,
  };
}

/** `/v1/admin/canary/*`: the rollout, the kill switch and the audit log. */
export function canaryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireApiKey());

  app.get('/rollout', async (c) => c.json(rolloutView((await withStore(c, 'admin-rollout', () => c.get('services').control.overview())).rollout)));
  app.put('/rollout', adminBodyLimit(), async (c) => {
    const { percent, reason } = await readBody(c, rolloutBody, '{"percent": number from 0 to 100 (two decimals at most), "reason"?: string}');
    c.get('log').decision = 'rollout';
    const applied = await withStore(c, 'admin-set-rollout', () =>
      c.get('services').control.setRollout(percentToBasisPoints(percent), { actor: c.get('actor'), reason: reason ?? null }),
    );
    requireInvalidated(applied.invalidated, `a rollout of ${percent}%`);
    return c.json(rolloutView(applied.value));
  });
  app.all('/rollout', () => methodNotAllowed('GET or PUT', `${PATH}/rollout`));

  for (const [path, paused] of [['/pause', true], ['/resume', false]] as const) {
    app.post(path, adminBodyLimit(), async (c) => {
      const { reason } = await readBody(c, reasonBody, '{"reason"?: string} or no body', true);
      c.get('log').decision = paused ? 'pause' : 'resume';
      const applied = await withStore(c, `admin-${paused ? 'pause' : 'resume'}`, () =>
        c.get('services').control.setPaused(paused, { actor: c.get('actor'), reason: reason ?? null }),
      );
      requireInvalidated(applied.invalidated, paused ? 'canary routing paused' : 'canary routing resumed');
      return c.json({ paused: applied.value.paused });
    });
    app.all(path, () => methodNotAllowed('POST', `${PATH}${path}`));
  }

  app.get('/audit', async (c) => {
    const query = auditQuery.safeParse(c.req.query());
    if (!query.success) {
      throw new ApiError(400, 'invalid_query', 'Expected ?limit=1..500 (default 50), ?platformId=<id>, ?before=<entry id> for the next page.');
    }
    const { limit, platformId, before } = query.data;
    const entries = await withStore(c, 'admin-audit', () =>
      c.get('services').control.audit({ limit, platformId: platformId ?? null, before: before ?? null }),
    );
    const last = entries.at(-1);
    return c.json({ entries, next: entries.length === limit && last !== undefined ? last.id : null });
  });
  app.all('/audit', () => methodNotAllowed('GET', `${PATH}/audit`));

  app.post('/overrides', adminBodyLimit(), async (c) => {
    const { target, ttlSeconds, platformId, reason } = await readBody(
      c,
      overrideBody,
      '{"target": "canary"|"primary", "ttlSeconds": 60..86400, "platformId"?: string, "reason"?: string}',
    );
    const { config, control } = c.get('services');
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await mintOverride(config.jwtSecret, { target, platformId: platformId ?? null, expiresAt });
    const expires = new Date(expiresAt * 1000).toISOString();
    c.get('log').decision = 'override-minted';
    // Who handed out a way around the cohort, and until when (never the token itself).
    await withStore(c, 'admin-override', () =>
      control.recordEvent('override', platformId ?? null, { target, expiresAt: expires }, { actor: c.get('actor'), reason: reason ?? null }),
    );
    return c.json({ token, expiresAt: expires });
  });
  app.all('/overrides', () => methodNotAllowed('POST', `${PATH}/overrides`));

  app.get('/health', async (c) => {
    const { redis } = c.get('services');
    if (redis === null) throw new ApiError(503, 'health_unavailable', 'No Redis is configured (UPSTASH_REDIS_REST_URL), so the edge keeps no health counts.');
    const { windowSeconds, minutes, total, settings, lastVerdict } = await withRedis(c, () => readGuardWindow(redis, Date.now()));
    const view = (counts: { requests: number; errors: number }) => ({ ...counts, errorRate: errorRate(counts) });
    return c.json({
      windowSeconds,
      origins: { primary: view(total.primary), canary: view(total.canary) },
      minutes: minutes.map((m) => ({ at: new Date(m.minute * 60_000).toISOString(), primary: m.primary, canary: m.canary })),
      guard: { settings, lastVerdict },
    });
  });
  app.all('/health', () => methodNotAllowed('GET', `${PATH}/health`));

  app.all('*', () => {
    throw new ApiError(404, 'not_found', `No such admin route. See ${PATH}/rollout, /pause, /resume, /overrides, /audit, /health.`);
  });
  return app;
}
