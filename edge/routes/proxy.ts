import type { Context } from 'hono';
import type { MembershipAnswer } from '../../core/membership/index.js';
import { EdgeError } from '../lib/errors.js';
import { forwardRequest } from '../proxy/forward-request.js';
import type { OriginName } from '../proxy/forward-request.js';
import { canaryCookieHeader, clearCanaryCookieHeader, signCanaryCookie } from '../resolve/canary-cookie.js';
import { resolvePlatform } from '../resolve/resolve-platform.js';
import type { Resolution } from '../resolve/resolve-platform.js';
import type { AppEnv } from '../types.js';

function chooseOrigin(resolution: Resolution, answer: MembershipAnswer | null, canaryUrl: string): OriginName {
  if (canaryUrl === '' || resolution.ref === null || answer === null) return 'primary';
  return answer.canary ? 'canary' : 'primary';
}

/** Cookie to set or clear on the response: set for principals routed to canary, clear on authoritative non-canary. */
function cookieChange(
  resolution: Resolution,
  answer: MembershipAnswer | null,
  servedBy: OriginName,
): 'set' | 'clear' | null {
  if (answer === null || answer.platformId === null) return null;
  const principal = resolution.source === 'jwt' || resolution.source === 'api-key';
  if (servedBy === 'canary' && principal) return 'set';
  const authoritative = answer.authority !== 'none';
  if (!answer.canary && authoritative && resolution.hasCanaryCookie && (principal || resolution.source === 'cookie')) {
    return 'clear';
  }
  return null;
}

/** Resolves the platform, asks the cohort, and streams the request to the primary or the canary origin. */
export async function proxyHandler(c: Context<AppEnv>): Promise<Response> {
  const { config, membership } = c.get('services');
  const log = c.get('log');
  const url = new URL(c.req.url);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const resolution = await resolvePlatform(
    { authorization: c.req.header('authorization') ?? null, cookie: c.req.header('cookie') ?? null, pathname: url.pathname },
    config.jwtSecret,
    nowSeconds,
  );
  log.source = resolution.source;

  let answer: MembershipAnswer | null = null;
  // With canary routing off there is nothing to decide, so the stores are not asked at all.
  if (resolution.ref !== null && config.canaryUrl !== '') {
    const lookupStarted = Date.now();
    answer = await membership.lookup(resolution.ref);
    Object.assign(log, {
      platformId: answer.platformId,
      authority: answer.authority,
      cache: answer.trace.cache,
      database: answer.trace.database,
      fillWaits: answer.trace.waits,
      lookupMs: Date.now() - lookupStarted,
    });
    if (answer.authority === 'none') log.error = 'membership stores unavailable; routed to primary';
  }
  const origin = chooseOrigin(resolution, answer, config.canaryUrl);
  log.decision = resolution.ref === null ? 'unresolved' : config.canaryUrl === '' ? 'canary-off' : origin;

  const originStarted = Date.now();
  const outcome = await forwardRequest({
    request: c.req.raw,
    url,
    origin,
    primaryUrl: config.primaryUrl,
    canaryUrl: config.canaryUrl,
    forward: {
      clientIp: c.req.header('cf-connecting-ip') ?? null,
      host: url.host,
      proto: url.protocol.replace(/:$/, ''),
    },
  });
  log.originMs = Date.now() - originStarted;

  if (outcome.kind === 'unreachable') {
    log.origin = outcome.origin;
    log.error = `${outcome.origin} origin unreachable`;
    if (outcome.origin === 'canary') {
      throw new EdgeError(502, 'canary_unavailable', 'The canary origin is unreachable; this request was not processed. Retry later.');
    }
    throw new EdgeError(502, 'origin_unavailable', 'The origin is unreachable; this request was not processed. Retry later.');
  }
  log.origin = outcome.servedBy;
  log.fellBack = outcome.fellBack;
  const response = outcome.response;
  if (response.status === 101) return response;

  const change = cookieChange(resolution, answer, outcome.servedBy);
  if (change === 'set' && answer?.platformId) {
    response.headers.append('set-cookie', canaryCookieHeader(await signCanaryCookie(answer.platformId, config.jwtSecret, nowSeconds)));
  } else if (change === 'clear') {
    response.headers.append('set-cookie', clearCanaryCookieHeader());
  }
  return response;
}
