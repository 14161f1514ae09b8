import { Hono } from 'hono';
import type { Context } from 'hono';
import { mintOverride } from '../../../core/auth/override-token.js';
import { errorRate } from '../../../core/health/health-window.js';
import type { Driver } from '../../../core/judge/judge.js';
import type { JudgeRecord } from '../../../core/judge/judge-record.js';
import { ApiError } from '../../../core/http/api-error.js';
import { OVERRIDE_INPUT, validateInput } from '../../../core/operator/inputs.js';
import { OperatorCommands } from '../../../core/operator/operator-commands.js';
import { PLAN_VERBS } from '../../../core/plans/plan-change.js';
import type { PlanVerb } from '../../../core/plans/plan-change.js';
import { StoreError } from '../../../core/membership/index.js';
import type { RolloutRecord } from '../../../core/membership/index.js';
import type { AppEnv } from '../../types.js';
import { adminBodyLimit, methodNotAllowed, readJson, requireApiKey, valueOf } from './admin-support.js';

const PATH = '/v1/admin/canary';
const ROLLOUT = '{"percent": number from 0 to 100 (two decimals at most), "reason"?: string}';
const REASON_ONLY = '{"reason"?: string} or no body';
const OVERRIDE = '{"target": "canary"|"primary", "ttlSeconds": 60..86400, "platformId"?: string, "reason"?: string}';
const RELEASE = '{"platformId": string, "reason"?: string}';
const PLAN = '{"steps": [{"percent": 0..100, "bakeSeconds": 0..604800} | {"trafficPercent": 0..100, "bakeSeconds": 0..604800} | {"approval": true}, ...], "maxBakeSeconds"?: 0..604800, "reason"?: string}';

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

/** The platforms that drove the judge's metrics, worst first (at most 5), with the metric each drove. */
export function worstPlatforms(record: JudgeRecord): (Driver & { metric: string })[] {
  const all = Object.values(record.metrics ?? {}).flatMap((m) => m.drivers.map((d) => ({ ...d, metric: m.metric })));
  return all.sort((a, b) => b.excess - a.excess).slice(0, 5);
}

/** The rollout as admin answers show it. */
export function rolloutView(rollout: RolloutRecord): Record<string, unknown> {
  return {
    percent: OperatorCommands.percentOf(rollout),
    salt: rollout.salt,
    paused: rollout.paused,
    updatedAt: rollout.updatedAt,
    updatedBy: rollout.updatedBy,
  };
}

/** `/v1/admin/canary/*`: the rollout, the kill switch, tester overrides, the audit log and health. */
export function canaryRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use('*', requireApiKey());

  app.get('/rollout', async (c) => c.json(rolloutView(valueOf(await c.get('services').operator.rollout()))));
  app.put('/rollout', adminBodyLimit(), async (c) => {
    const body = await readJson(c, ROLLOUT);
    c.get('log').decision = 'rollout';
    return c.json(rolloutView(valueOf(await c.get('services').operator.setRollout(body, c.get('actor')), { expected: ROLLOUT })));
  });
  app.all('/rollout', () => methodNotAllowed('GET or PUT', `${PATH}/rollout`));

  for (const [path, paused] of [['/pause', true], ['/resume', false]] as const) {
    app.post(path, adminBodyLimit(), async (c) => {
      const body = await readJson(c, REASON_ONLY, true);
      c.get('log').decision = paused ? 'pause' : 'resume';
      return c.json(valueOf(await c.get('services').operator.setPaused(paused, body, c.get('actor')), { expected: REASON_ONLY }));
    });
    app.all(path, () => methodNotAllowed('POST', `${PATH}${path}`));
  }

  app.get('/audit', async (c) => {
    const outcome = await c.get('services').operator.audit(c.req.query());
    if (outcome.kind === 'invalid') {
      throw new ApiError(400, 'invalid_query', `Expected ?limit=1..500 (default 50), ?platformId=<id>, ?before=<entry id> for the next page. ${outcome.message}`);
    }
    return c.json(valueOf(outcome));
  });
  app.all('/audit', () => methodNotAllowed('GET', `${PATH}/audit`));

  app.post('/overrides', adminBodyLimit(), async (c) => {
    const valid = validateInput(OVERRIDE_INPUT, await readJson(c, OVERRIDE));
    if (!valid.ok) throw new ApiError(400, 'invalid_body', `Expected ${OVERRIDE}. ${valid.message}`);
    const { target, ttlSeconds, platformId, reason } = valid.value;
    const { config, operator } = c.get('services');
    const expiresAt = Math.floor(Date.now() / 1000) + ttlSeconds;
    const token = await mintOverride(config.jwtSecret, { target, platformId: platformId ?? null, expiresAt });
    const expires = new Date(expiresAt * 1000).toISOString();
    c.get('log').decision = 'override-minted';
    // Who handed out a way around the cohort, and until when (never the token itself).
    valueOf(await operator.recordEvent('override', platformId ?? null, { target, expiresAt: expires }, c.get('actor'), reason ?? null));
    return c.json({ token, expiresAt: expires });
  });
  app.all('/overrides', () => methodNotAllowed('POST', `${PATH}/overrides`));

  app.post('/overrides/revoke', adminBodyLimit(), async (c) => {
    const body = await readJson(c, REASON_ONLY, true);
    c.get('log').decision = 'overrides-revoked';
    return c.json(valueOf(await c.get('services').operator.revokeOverrides(body, c.get('actor')), { expected: REASON_ONLY }));
  });
  app.all('/overrides/revoke', () => methodNotAllowed('POST', `${PATH}/overrides/revoke`));

  app.get('/health', async (c) => {
    const { health, operator } = c.get('services');
    if (health === null) throw new ApiError(503, 'health_unavailable', 'No Redis is configured (UPSTASH_REDIS_REST_URL), so the edge keeps no health counts.');
    const [window, quarantined] = await Promise.all([withRedis(c, () => health.readWindow(Date.now())), operator.quarantined()]);
    const view = (counts: { requests: number; errors: number }) => ({ ...counts, errorRate: errorRate(counts) });
    return c.json({
      windowSeconds: window.windowSeconds,
      origins: { primary: view(window.total.primary), canary: view(window.total.canary) },
      minutes: window.minutes.map((m) => ({ at: new Date(m.minute * 60_000).toISOString(), primary: m.primary, canary: m.canary })),
      judge: window.record === null ? null : { ...window.record, worstPlatforms: worstPlatforms(window.record) },
      quarantined: valueOf(quarantined),
      // The guard's fields, kept for tools written against them: the judge's settings and record.
      guard: { settings: window.record?.settings ?? null, lastVerdict: window.record },
    });
  });
  app.all('/health', () => methodNotAllowed('GET', `${PATH}/health`));

  // The judge's quarantine, lifted: the platform follows the rollout again (audited as `release`).
  app.post('/quarantine/release', adminBodyLimit(), async (c) => {
    const body = await readJson(c, RELEASE);
    c.get('log').decision = 'release';
    const value = valueOf(await c.get('services').operator.follow(body, c.get('actor'), 'release'), { expected: RELEASE });
    return c.json({ platformId: value.platformId, canary: value.canary });
  });
  app.all('/quarantine/release', () => methodNotAllowed('POST', `${PATH}/quarantine/release`));

  // Release plans (DESIGN §8): one active at a time; its transitions happen on the judge's tick.
  app.post('/plans', adminBodyLimit(), async (c) => {
    const body = await readJson(c, PLAN);
    c.get('log').decision = 'plan-start';
    return c.json(valueOf(await c.get('services').operator.startPlan(body, c.get('actor')), { expected: PLAN }), 201);
  });
  app.all('/plans', () => methodNotAllowed('POST', `${PATH}/plans`));
  app.get('/plans/current', async (c) => c.json(valueOf(await c.get('services').operator.currentPlan())));
  app.all('/plans/current', () => methodNotAllowed('GET', `${PATH}/plans/current`));
  app.post('/plans/current/:verb', adminBodyLimit(), async (c) => {
    const verb = c.req.param('verb');
    if (!PLAN_VERBS.includes(verb as PlanVerb)) throw new ApiError(404, 'not_found', `No such plan action: use ${PLAN_VERBS.map((v) => `${PATH}/plans/current/${v}`).join(', ')}.`);
    const body = await readJson(c, REASON_ONLY, true);
    c.get('log').decision = `plan-${verb}`;
    return c.json(valueOf(await c.get('services').operator.planVerb(verb as PlanVerb, body, c.get('actor')), { expected: REASON_ONLY }));
  });
  app.all('/plans/current/:verb', (c) => methodNotAllowed('POST', `${PATH}/plans/current/${c.req.param('verb')}`));

  app.all('*', () => {
    throw new ApiError(404, 'not_found', `No such admin route. See ${PATH}/rollout, /pause, /resume, /overrides, /overrides/revoke, /audit, /health, /quarantine/release, /plans, /plans/current.`);
  });
  return app;
}
