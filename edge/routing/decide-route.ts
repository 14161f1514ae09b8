import type { MembershipAnswer } from '../../core/membership/index.js';
import type { OriginName } from '../proxy/forward-request.js';
import type { BuildPin } from '../resolve/build-cookie.js';
import type { PresentedOverride } from '../resolve/override.js';
import type { Candidate, PlatformSource, Resolution } from '../resolve/resolve-platform.js';

/** What the membership lookup found: the candidate that named a platform (or the last one asked) and its answer. */
export interface LookupResult {
  candidate: Candidate;
  answer: MembershipAnswer;
}

/** Everything the routing decision depends on; all of it known before the request is forwarded. */
export interface RouteInput {
  resolution: Resolution;
  /** What the stores answered for the candidates, or null when none was asked (`lookupPlan`). */
  lookup: LookupResult | null;
  override: PresentedOverride;
  /** Override tokens minted at or before this instant (epoch ms) are revoked; null when no store said. */
  overridesRevokedBeforeMs: number | null;
  /** False when AP_CANARY_APP_URL is empty: canary routing off. */
  canaryRouting: boolean;
  /**
   * Skew protection: the valid, unexpired build pin of a static read that is not a document load (null otherwise):
   * within its max age the read goes to the build that served the document, unless a hard cutoff ended it.
   */
  buildPin?: BuildPin | null;
  /** A document load (GET of HTML outside the API): it follows membership and pins the build that serves it. */
  documentLoad?: boolean;
}

/** A change of the `ap_canary` cookie on the response. */
export type CookieChange = { kind: 'set'; platformId: string } | { kind: 'clear' };

/** A change of the `ap_canary_build` cookie: pin the serving build (a document load), or end a pin a cutoff ended. */
export type BuildCookieChange = { kind: 'set'; platformId: string | null } | { kind: 'clear' } | null;

/** The decision's part of the request's log line (never a secret). */
export interface RouteLog {
  source: PlatformSource | 'none';
  decision: string;
  platformId?: string | null;
  authority?: string;
  cache?: string;
  database?: string;
  fillWaits?: number;
  cacheRefresh?: boolean;
  override?: string;
  error?: string;
}

/** Seconds a client over its unknown-id budget is told to wait (the limiter's period). */
export const UNKNOWN_ID_RETRY_AFTER_SECONDS = 60;

export type RouteDecision =
  | { kind: 'refuse'; status: 429; code: 'rate_limited'; message: string; retryAfterSeconds: number; log: RouteLog }
  | {
      kind: 'forward';
      origin: OriginName;
      /** The cookie change, by the origin that ends up serving the request (a fallback to the primary sets nothing). */
      cookie: Record<OriginName, CookieChange | null>;
      /** An honoured override: the response tells the tester where it went (`x-canary-routed`). */
      showRoute: boolean;
      /** The request counts towards the judge's signals (never one routed by an override or a build pin: not the cohort's choice). */
      record: boolean;
      /** The build pin's change on the response. */
      buildCookie: BuildCookieChange;
      log: RouteLog;
    };

/** What to ask the stores: the candidates in order, and whether only the shared state is needed (no platform named). */
export interface LookupPlan {
  candidates: Candidate[];
  /** No candidate, but an override to check against the revocation instant: one lookup of the state alone. */
  stateOnly: boolean;
}

/**
 * What the stores must be asked, or null for nothing: nothing with canary routing off or for a request that names no
 * platform and carries no override. A one-platform override in the browser's cookie names its platform for the
 * requests that cookie steers (static reads, Socket.IO), after whatever the request names itself. Every valid override
 * needs the state (revocation, the platform's explicit choice), so a token for any platform costs the usual one
 * lookup too.
 */
export function lookupPlan(resolution: Resolution, override: PresentedOverride, canaryRouting: boolean, buildPin: BuildPin | null = null): LookupPlan | null {
  if (!canaryRouting) return null;
  const candidates = [...resolution.candidates];
  if (override.kind === 'valid' && override.from === 'cookie' && override.override.platformId !== null && resolution.cookieRoutable) {
    candidates.push({ source: 'override', ref: { kind: 'platform', platformId: override.override.platformId } });
  }
  // A pin to the canary is checked against its hard cutoffs (the pause, the pinned platform's exclusion): the one
  // lookup every routed request may cost.
  const pinnedToCanary = buildPin?.side === 'canary';
  if (pinnedToCanary && buildPin.platformId !== null) candidates.push({ source: 'build', ref: { kind: 'platform', platformId: buildPin.platformId } });
  if (candidates.length > 0) return { candidates, stateOnly: false };
  return override.kind === 'valid' || pinnedToCanary ? { candidates, stateOnly: true } : null;
}

function isPrincipal(source: PlatformSource): boolean {
  return source === 'jwt' || source === 'api-key';
}

/**
 * The override's effect: the origin it chooses, or null when it does not apply, and what the log says about it. A
 * cookie carries only a one-platform token, and only for what `ap_canary` steers; a revoked token (or one no store
 * could check) is ignored; a one-platform token applies to its platform only; and a token for any platform never sends
 * a platform the operators explicitly excluded to the canary.
 */
function overrideEffect(input: RouteInput, answer: MembershipAnswer | null): { target: OriginName | null; log?: string } {
  const { override } = input;
  if (override.kind === 'none') return { target: null };
  if (override.kind === 'ignored') return { target: null, log: `ignored:${override.reason}` };
  const { platformId, target, issuedAtMs } = override.override;
  if (override.from === 'cookie' && platformId === null) return { target: null, log: 'ignored:cookie-any-platform' };
  if (override.from === 'cookie' && !input.resolution.cookieRoutable) return { target: null, log: 'ignored:cookie-not-for-api' };
  if (input.overridesRevokedBeforeMs === null) return { target: null, log: 'ignored:unverified' };
  if (issuedAtMs <= input.overridesRevokedBeforeMs) return { target: null, log: 'ignored:revoked' };
  if (platformId !== null && answer?.platformId !== platformId) return { target: null, log: 'ignored:other-platform' };
  if (platformId === null && target === 'canary' && answer?.explicit === 'out') return { target: null, log: 'ignored:excluded' };
  return { target, log: `honoured:${target}` };
}

const NO_COOKIE: Record<OriginName, CookieChange | null> = { primary: null, canary: null };

/**
 * The routing rule (README "How the edge routes a request"), as one pure function: a tester's override first (for its
 * platform, or any; also while paused; see overrideEffect for when one is ignored), then the cohort's answer; a request over its unknown-id budget is refused; the
 * `ap_canary` cookie is set for a principal the canary serves and cleared when its platform is authoritatively not on
 * the canary. No I/O: `proxy.ts` asks the stores, forwards, and applies what this returns.
 */
export function decideRoute(input: RouteInput): RouteDecision {
  const { resolution, lookup, canaryRouting } = input;
  const candidate = lookup?.candidate ?? resolution.candidates[0] ?? null;
  const answer = lookup?.answer ?? null;
  const log: RouteLog = { source: candidate?.source ?? 'none', decision: '' };
  if (answer !== null) {
    Object.assign(log, { platformId: answer.platformId, authority: answer.authority, cache: answer.trace.cache, database: answer.trace.database, fillWaits: answer.trace.waits });
    if (answer.trace.refresh) log.cacheRefresh = true;
    if (answer.authority === 'none') log.error = 'membership stores unavailable; routed to primary';
  }
  const override = overrideEffect(input, answer);
  if (override.log !== undefined) log.override = override.log;

  if (answer?.authority === 'refused') {
    log.decision = 'rate-limited';
    const message = `Too many requests naming unknown API keys or flows from this client. Retry after ${UNKNOWN_ID_RETRY_AFTER_SECONDS} s.`;
    return { kind: 'refuse', status: 429, code: 'rate_limited', message, retryAfterSeconds: UNKNOWN_ID_RETRY_AFTER_SECONDS, log };
  }

  const buildCookie: BuildCookieChange = input.documentLoad === true ? { kind: 'set', platformId: answer?.platformId ?? null } : null;
  // With canary routing off nothing reaches a canary, not even an override.
  if (override.target !== null) {
    const origin = canaryRouting ? override.target : 'primary';
    log.decision = `override-${origin}`;
    return { kind: 'forward', origin, cookie: NO_COOKIE, showRoute: true, record: false, buildCookie, log };
  }

  const pin = input.buildPin ?? null;
  let pinCut = false;
  if (pin !== null && canaryRouting) {
    // A pin to the primary is always safe to honour; one to the canary ends at once with a pause, the judge's
    // quarantine of the pinned platform (its pins cut at that instant), or stores that cannot say (fail open). An
    // operator's flip does not end it: the document's assets still come from its build until the max age.
    const quarantined = answer?.pinCutoffMs != null && answer.platformId === pin.platformId && answer.pinCutoffMs >= pin.issuedAtSeconds * 1000;
    pinCut = pin.side === 'canary' && (answer === null || answer.authority === 'none' || answer.source === 'paused' || quarantined);
    if (!pinCut) {
      log.decision = `skew-${pin.side}`;
      return { kind: 'forward', origin: pin.side, cookie: NO_COOKIE, showRoute: false, record: false, buildCookie: null, log };
    }
  }
  const origin: OriginName = canaryRouting && answer?.canary === true ? 'canary' : 'primary';
  log.decision = candidate === null ? 'unresolved' : canaryRouting ? origin : 'canary-off';

  let cookie = NO_COOKIE;
  if (candidate !== null && answer !== null && answer.platformId !== null) {
    const principal = isPrincipal(candidate.source);
    if (origin === 'canary' && principal) cookie = { primary: null, canary: { kind: 'set', platformId: answer.platformId } };
    else if (!answer.canary && answer.authority !== 'none' && resolution.hasCanaryCookie && (principal || candidate.source === 'cookie')) {
      cookie = { primary: { kind: 'clear' }, canary: null };
    }
  }
  if (pinCut) log.decision = `skew-cut-${log.decision}`;
  return { kind: 'forward', origin, cookie, showRoute: false, record: canaryRouting, buildCookie: pinCut ? { kind: 'clear' } : buildCookie, log };
}
