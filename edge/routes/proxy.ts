import type { Context } from 'hono';
import { ApiError } from '../../core/http/api-error.js';
import { CANARY_FAULT_HEADER, CLIENT_FAULT } from '../../core/http/canary-fault.js';
import { describeStoreError } from '../../core/log/redact.js';
import { countRequest } from '../health/count-request.js';
import type { Defer } from '../health/count-request.js';
import { forwardRequest } from '../proxy/forward-request.js';
import { applyBuildPin, presentedBuildPin } from '../resolve/build-cookie.js';
import { clearCanaryCookieHeader } from '../resolve/canary-cookie.js';
import { ROUTED_HEADER, presentedOverride } from '../resolve/override.js';
import { isStaticRead, resolvePlatform } from '../resolve/resolve-platform.js';
import { decideRoute, lookupPlan } from '../routing/decide-route.js';
import { lookupCandidates, unknownIdAdmission } from '../routing/lookup-candidates.js';
import type { AppEnv } from '../types.js';

/** `waitUntil` of the request, so background work (a cohort refresh, a count flush) outlives the response. */
function deferOf(c: Context<AppEnv>): Defer | undefined {
  try {
    const ctx = c.executionCtx;
    return (task) => ctx.waitUntil(task);
  } catch {
    return undefined; // app.request() without an execution context
  }
}

/**
 * The proxy: the I/O around `decideRoute` (routing/decide-route.ts). Resolves the platform, asks the cohort, forwards
 * the request to the chosen origin (streamed both ways) and applies the decision's cookie change and counts.
 */
export async function proxyHandler(c: Context<AppEnv>): Promise<Response> {
  const services = c.get('services');
  const { config } = services;
  const log = c.get('log');
  const url = c.get('url');
  const nowSeconds = Math.floor(Date.now() / 1000);
  const cookie = c.req.header('cookie') ?? null;
  const canaryRouting = config.canaryUrl !== '';
  const resolution = await resolvePlatform(
    { method: c.req.method, authorization: c.req.header('authorization') ?? null, cookie, pathname: c.get('routingPath') },
    { jwtSecret: config.jwtSecret, verifyJwt: services.verifyJwt },
    nowSeconds,
  );
  const override = await presentedOverride(c.req.header('x-canary-override') ?? null, cookie, config.jwtSecret, nowSeconds);
  const clientIp = c.req.header('cf-connecting-ip') ?? null;
  const defer = deferOf(c);
  // Skew protection: a document load pins the build that serves it; the static reads after it follow the pin.
  const staticRead = isStaticRead(c.req.method, c.get('routingPath'));
  const documentLoad = staticRead && c.req.method === 'GET' && (c.req.header('accept') ?? '').includes('text/html');
  const buildPin = staticRead && !documentLoad ? await presentedBuildPin(cookie, config.jwtSecret, nowSeconds, config.skewMaxAgeSeconds) : null;

  const lookupStarted = Date.now();
  const plan = lookupPlan(resolution, override, canaryRouting, buildPin);
  const options = {
    defer,
    admitResolverFill: unknownIdAdmission(c.env.UNKNOWN_ID_LIMITER, clientIp ?? 'unknown-client', (message: string) => (log.error = message)),
  };
  const lookup = plan === null || plan.stateOnly ? null : await lookupCandidates(plan.candidates, services.membership, options);
  // An override is checked against the revocation instant, which a lookup that found no state (an unknown key or
  // flow, or no candidate at all) did not read: then the state alone is read (stores down: the next would fail too).
  const needsState = plan !== null && override.kind === 'valid' && (lookup === null || (lookup.answer.overridesRevokedBeforeMs === null && lookup.answer.authority !== 'none'));
  const state = needsState ? await services.membership.lookup({ kind: 'none' }, options) : null;
  const overridesRevokedBeforeMs = lookup?.answer.overridesRevokedBeforeMs ?? state?.overridesRevokedBeforeMs ?? null;
  const decision = decideRoute({ resolution, lookup, override, overridesRevokedBeforeMs, canaryRouting, buildPin, documentLoad });
  Object.assign(log, decision.log, plan === null ? {} : { lookupMs: Date.now() - lookupStarted });
  if (decision.kind === 'refuse') {
    throw new ApiError(decision.status, decision.code, decision.message, { 'retry-after': String(decision.retryAfterSeconds) });
  }

  const originStarted = Date.now();
  const outcome = await forwardRequest({
    fetch: services.fetchOrigin,
    request: c.req.raw,
    url,
    origin: decision.origin,
    primaryUrl: config.primaryUrl,
    canaryUrl: config.canaryUrl,
    forward: { clientIp, host: url.host, proto: url.protocol.replace(/:$/, ''), routedBy: decision.showRoute ? 'override' : null },
  });
  log.originMs = Date.now() - originStarted;
  const counts = decision.record ? defer : undefined;

  const platformId = lookup?.answer.platformId ?? null;
  if (outcome.kind === 'unreachable') {
    // After a fallback both origins failed this request: the canary first, then the primary.
    const failed = outcome.fellBack ? (['canary', 'primary'] as const) : [outcome.origin];
    countRequest(services, counts, { platformId, served: null, failed, status: 502, clientFault: false, originMs: log.originMs });
    log.origin = outcome.origin;
    log.error = `${outcome.origin} origin unreachable: ${describeStoreError(outcome.error)}`;
    if (outcome.origin === 'canary') throw new ApiError(502, 'canary_unavailable', 'The canary origin is unreachable; this request was not processed. Retry later.');
    throw new ApiError(502, 'origin_unavailable', 'The origin is unreachable; this request was not processed. Retry later.');
  }
  log.origin = outcome.servedBy;
  log.fellBack = outcome.fellBack;
  const { response } = outcome;
  // A fallback means the canary never answered: an error of the canary's, whoever served the request in the end. A 5xx
  // the origin marks as the client's doing is a request, not an error (the mark never reaches the client).
  // (A 101 carries the WebSocket and its headers are the runtime's: it is returned as it is.)
  const clientFault = response.status >= 500 && response.headers.get(CANARY_FAULT_HEADER) === CLIENT_FAULT;
  if (response.status !== 101) response.headers.delete(CANARY_FAULT_HEADER);
  countRequest(services, counts, { platformId, served: outcome.servedBy, failed: outcome.fellBack ? ['canary'] : [], status: response.status, clientFault, originMs: log.originMs });
  if (response.status === 101) return response;
  await applyBuildPin(response, outcome.servedBy, decision.buildCookie, config.jwtSecret, nowSeconds, config.skewMaxAgeSeconds);
  if (decision.showRoute) response.headers.set(ROUTED_HEADER, outcome.servedBy);
  const change = decision.cookie[outcome.servedBy];
  if (change?.kind === 'set') {
    const header = await services.canaryCookie(change.platformId, nowSeconds);
    if (header !== null) response.headers.append('set-cookie', header);
  } else if (change?.kind === 'clear') {
    response.headers.append('set-cookie', clearCanaryCookieHeader());
  }
  return response;
}
