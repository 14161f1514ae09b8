import type { Context } from 'hono';
import { recordHealth } from '../../core/health/health-window.js';
import type { LookupOptions, MembershipAnswer } from '../../core/membership/index.js';
import { ApiError } from '../../core/http/api-error.js';
import { describeStoreError } from '../../core/log/redact.js';
import { forwardRequest } from '../proxy/forward-request.js';
import type { OriginName } from '../proxy/forward-request.js';
import { clearCanaryCookieHeader } from '../resolve/canary-cookie.js';
import { ROUTED_HEADER, presentedOverride } from '../resolve/override.js';
import type { PresentedOverride } from '../resolve/override.js';
import { resolvePlatform } from '../resolve/resolve-platform.js';
import type { Candidate, Resolution } from '../resolve/resolve-platform.js';
import type { EdgeServices } from '../types.js';
import type { AppEnv } from '../types.js';

interface Decision {
  candidate: Candidate | null;
  answer: MembershipAnswer | null;
  origin: OriginName;
}

/** Asks the cohort for each candidate in order until one names a platform (normally the first: one round trip). */
async function decide(resolution: Resolution, services: EdgeServices, options: LookupOptions): Promise<Decision> {
  // With canary routing off there is nothing to decide, so the stores are not asked at all.
  if (services.config.canaryUrl === '') return { candidate: resolution.candidates[0] ?? null, answer: null, origin: 'primary' };
  let last: Decision = { candidate: null, answer: null, origin: 'primary' };
  for (const candidate of resolution.candidates) {
    const answer = await services.membership.lookup(candidate.ref, options);
    last = { candidate, answer, origin: answer.canary ? 'canary' : 'primary' };
    // Stop at a platform, and also when the stores are down or the read was refused: the next would fare the same.
    if (answer.platformId !== null || answer.authority === 'none' || answer.authority === 'refused') break;
  }
  return last;
}

/** Cookie to set or clear: set for principals routed to canary, clear on an authoritative non-canary answer. */
function cookieChange(resolution: Resolution, decision: Decision, servedBy: OriginName): 'set' | 'clear' | null {
  const { candidate, answer } = decision;
  if (candidate === null || answer === null || answer.platformId === null) return null;
  const principal = candidate.source === 'jwt' || candidate.source === 'api-key';
  if (servedBy === 'canary' && principal) return 'set';
  if (!answer.canary && answer.authority !== 'none' && resolution.hasCanaryCookie && (principal || candidate.source === 'cookie')) {
    return 'clear';
  }
  return null;
}

/** Seconds a client over its unknown-id budget is told to wait (the limiter's period). */
const UNKNOWN_ID_RETRY_AFTER_SECONDS = 60;

/**
 * Admits a Postgres read for an id the cache does not know, within the client's budget (Workers Rate Limiting, one
 * counter per client IP). A limiter that fails admits: the budget protects the database, it must not block routing.
 */
function unknownIdAdmission(limiter: RateLimit, clientKey: string, log: AppEnv['Variables']['log']): () => Promise<boolean> {
  return async () => {
    try {
      return (await limiter.limit({ key: clientKey })).success;
    } catch (error) {
      log.error = `unknown-id limiter failed, read admitted: ${describeStoreError(error)}`;
      return true;
    }
  };
}

/** `waitUntil` of the request, so background work (a cohort refresh) is not cancelled once the response is sent. */
function deferOf(c: Context<AppEnv>): LookupOptions['defer'] {
  try {
    const ctx = c.executionCtx;
    return (task) => ctx.waitUntil(task);
  } catch {
    return undefined; // app.request() in unit tests has no execution context
  }
}

/**
 * Applies a tester's override to the decision: honoured for its platform (or any, when it names none), also while
 * paused; ignored otherwise. Returns the origin the override chose, or null when it does not apply.
 */
function overrideOrigin(presented: PresentedOverride, decision: Decision, log: AppEnv['Variables']['log']): OriginName | null {
  if (presented.kind === 'ignored') {
    log.override = `ignored:${presented.reason}`;
    return null;
  }
  if (presented.kind === 'none') return null;
  const { override } = presented;
  if (override.platformId !== null && decision.answer?.platformId !== override.platformId) {
    log.override = 'ignored:other-platform';
    return null;
  }
  log.override = `honoured:${override.target}`;
  return override.target;
}

/** Counts the outcome per origin for the health guard; the isolate's batch goes out later, under `waitUntil`. */
function countHealth(c: Context<AppEnv>, served: OriginName | null, failed: readonly OriginName[], status: number): void {
  const { health, redis, reportStoreError, config } = c.get('services');
  // Without a canary there is nothing to guard, and the stores are not asked at all.
  if (config.canaryUrl === '' || redis === null) return;
  const defer = deferOf(c);
  if (defer === undefined) return;
  const now = Date.now();
  for (const origin of failed) health.record(origin, true, now);
  if (served !== null) health.record(served, status >= 500, now);
  const delayMs = health.schedule(now);
  if (delayMs === null) return;
  const flush = async (): Promise<void> => {
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    await recordHealth(redis, health.take(Date.now()));
  };
  defer(flush().catch((error: unknown) => reportStoreError('health-record', error)));
}

/** Resolves the platform, asks the cohort, and streams the request to the primary or the canary origin. */
export async function proxyHandler(c: Context<AppEnv>): Promise<Response> {
  const services = c.get('services');
  const { config } = services;
  const log = c.get('log');
  const url = c.get('url');
  const nowSeconds = Math.floor(Date.now() / 1000);
  const cookie = c.req.header('cookie') ?? null;
  const resolution = await resolvePlatform(
    { method: c.req.method, authorization: c.req.header('authorization') ?? null, cookie, pathname: c.get('routingPath') },
    { jwtSecret: config.jwtSecret, verifyJwt: services.verifyJwt },
    nowSeconds,
  );

  const presented = await presentedOverride(c.req.header('x-canary-override') ?? null, cookie, config.jwtSecret, nowSeconds);
  const lookupStarted = Date.now();
  const clientIp = c.req.header('cf-connecting-ip') ?? null;
  // An override for any platform needs no lookup at all; one for a platform needs to know the request's platform.
  const decision: Decision =
    presented.kind === 'valid' && presented.override.platformId === null
      ? { candidate: resolution.candidates[0] ?? null, answer: null, origin: presented.override.target }
      : await decide(resolution, services, {
          defer: deferOf(c),
          admitResolverFill: unknownIdAdmission(c.env.UNKNOWN_ID_LIMITER, clientIp ?? 'unknown-client', log),
        });
  const overridden = overrideOrigin(presented, decision, log);
  // With canary routing off (no canary origin) nothing, not even an override, reaches a canary.
  if (overridden !== null) decision.origin = config.canaryUrl === '' ? 'primary' : overridden;
  const { candidate, answer } = decision;
  log.source = candidate?.source ?? 'none';
  if (answer !== null) {
    Object.assign(log, {
      platformId: answer.platformId,
      authority: answer.authority,
      cache: answer.trace.cache,
      database: answer.trace.database,
      fillWaits: answer.trace.waits,
      ...(answer.trace.refresh ? { cacheRefresh: true } : {}),
      lookupMs: Date.now() - lookupStarted,
    });
    if (answer.authority === 'none') log.error = 'membership stores unavailable; routed to primary';
    if (answer.authority === 'refused') {
      log.decision = 'rate-limited';
      throw new ApiError(
        429,
        'rate_limited',
        `Too many requests naming unknown API keys or flows from this client. Retry after ${UNKNOWN_ID_RETRY_AFTER_SECONDS} s.`,
        { 'retry-after': String(UNKNOWN_ID_RETRY_AFTER_SECONDS) },
      );
    }
  }
  log.decision = overridden !== null ? `override-${decision.origin}` : candidate === null ? 'unresolved' : config.canaryUrl === '' ? 'canary-off' : decision.origin;

  const originStarted = Date.now();
  const outcome = await forwardRequest({
    request: c.req.raw,
    url,
    origin: decision.origin,
    primaryUrl: config.primaryUrl,
    canaryUrl: config.canaryUrl,
    forward: {
      clientIp,
      host: url.host,
      proto: url.protocol.replace(/:$/, ''),
    },
  });
  log.originMs = Date.now() - originStarted;

  if (outcome.kind === 'unreachable') {
    // After a fallback both origins failed this request: the canary first, then the primary.
    countHealth(c, null, outcome.fellBack ? ['canary', 'primary'] : [outcome.origin], 502);
    log.origin = outcome.origin;
    log.error = `${outcome.origin} origin unreachable: ${describeStoreError(outcome.error)}`;
    if (outcome.origin === 'canary') {
      throw new ApiError(502, 'canary_unavailable', 'The canary origin is unreachable; this request was not processed. Retry later.');
    }
    throw new ApiError(502, 'origin_unavailable', 'The origin is unreachable; this request was not processed. Retry later.');
  }
  log.origin = outcome.servedBy;
  log.fellBack = outcome.fellBack;
  const response = outcome.response;
  // A fallback means the canary never answered: an error of the canary's, whoever served the request in the end.
  countHealth(c, outcome.servedBy, outcome.fellBack ? ['canary'] : [], response.status);
  if (response.status === 101) return response;
  if (overridden !== null) {
    // A tester sees where the override sent the request; the canary cookie is not touched by an override.
    response.headers.set(ROUTED_HEADER, outcome.servedBy);
    return response;
  }

  const change = cookieChange(resolution, decision, outcome.servedBy);
  if (change === 'set' && answer?.platformId) {
    const header = await services.canaryCookie(answer.platformId, nowSeconds);
    if (header !== null) response.headers.append('set-cookie', header);
  } else if (change === 'clear') {
    response.headers.append('set-cookie', clearCanaryCookieHeader());
  }
  return response;
}
