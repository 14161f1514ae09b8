import type { PlatformRef } from '../../core/membership/index.js';
import { bearerToken } from '../../core/auth/principal-jwt.js';
import type { PrincipalVerifier } from '../../core/auth/principal-jwt.js';
import { sha256Hex } from '../../core/crypto/web-crypto.js';
import { readCanaryCookie, verifyCanaryCookie } from './canary-cookie.js';
import { flowIdFromPath } from './webhook-path.js';

/**
 * Which request property named the platform. `jwt` and `api-key` are principals; `override` is the platform of a
 * tester's one-platform override cookie (it names the platform of static reads and Socket.IO, as `ap_canary` does);
 * `build` the platform of a document load's build pin (`ap_canary_build`), asked only to check its hard cutoffs.
 */
export type PlatformSource = 'jwt' | 'api-key' | 'webhook' | 'cookie' | 'override' | 'build';

/** One way the request may name its platform, in resolution order. */
export interface Candidate {
  source: PlatformSource;
  ref: PlatformRef;
}

export interface Resolution {
  /** The request is one the browser cookies may route: Socket.IO, or a static/SPA read (`cookieApplies`). */
  cookieRoutable: boolean;
  /**
   * Sources in resolution order (JWT, API key, webhook flow, cookie; docs/architecture.md §2). Only an API key or a flow can fail to resolve
   * after a lookup (unknown key or flow); the caller then tries the next one. A valid JWT is always the only one.
   */
  candidates: Candidate[];
  /** The request carries an `ap_canary` cookie (valid or not), so a non-canary answer should clear it. */
  hasCanaryCookie: boolean;
}

export interface ResolveInput {
  method: string;
  authorization: string | null;
  cookie: string | null;
  /** The routing path (percent-decoded, see `routingPath`), so `/%761/webhooks/…` resolves like `/v1/webhooks/…`. */
  pathname: string;
}

const API_PREFIXES = ['/v1/', '/api/'];
/** What a platform API key looks like: `sk-` and 16 to 128 URL-safe characters. */
export const API_KEY_SHAPE = /^sk-[A-Za-z0-9_-]{16,128}$/;

/**
 * Requests the canary cookie may route (docs/architecture.md §2): Socket.IO (its polling handshake and the upgrade must reach the
 * same origin) and static/SPA reads; API calls without a principal stay on the primary.
 */
export function cookieApplies(method: string, pathname: string): boolean {
  if (pathname === '/socket.io' || pathname.startsWith('/socket.io/')) return true;
  if (method !== 'GET' && method !== 'HEAD') return false;
  return !API_PREFIXES.some((prefix) => pathname.startsWith(prefix));
}

/**
 * Static reads (GET/HEAD outside /v1/ and /api/, not Socket.IO): what skew protection pins to the build that served the
 * document. API calls and sockets always follow membership.
 */
export function isStaticRead(method: string, pathname: string): boolean {
  return cookieApplies(method, pathname) && !(pathname === '/socket.io' || pathname.startsWith('/socket.io/'));
}

/** The secret of canary cookies and the verifier of principal JWTs (both keyed by AP_JWT_SECRET). */
export interface ResolveKeys {
  jwtSecret: string;
  verifyJwt: PrincipalVerifier;
}

/** The request's platform candidates, first match wins: JWT, API key, webhook flow, canary cookie. */
export async function resolvePlatform(input: ResolveInput, keys: ResolveKeys, nowSeconds: number): Promise<Resolution> {
  const cookieValue = readCanaryCookie(input.cookie);
  const hasCanaryCookie = cookieValue !== null;
  const cookieRoutable = cookieApplies(input.method, input.pathname);
  const candidates: Candidate[] = [];
  const bearer = bearerToken(input.authorization);
  if (bearer !== null) {
    if (bearer.startsWith('sk-')) {
      // A key that cannot be a platform key is not looked up at all: made-up keys cost nothing past this line.
      if (API_KEY_SHAPE.test(bearer)) candidates.push({ source: 'api-key', ref: { kind: 'api-key', hashedKey: await sha256Hex(bearer) } });
    } else {
      const principal = await keys.verifyJwt(bearer, nowSeconds);
      if (principal !== null) {
        return { candidates: [{ source: 'jwt', ref: { kind: 'platform', platformId: principal.platformId } }], hasCanaryCookie, cookieRoutable };
      }
    }
  }
  const flowId = flowIdFromPath(input.pathname);
  if (flowId !== null) candidates.push({ source: 'webhook', ref: { kind: 'flow', flowId } });
  if (cookieValue !== null && cookieRoutable) {
    const platformId = await verifyCanaryCookie(cookieValue, keys.jwtSecret, nowSeconds);
    if (platformId !== null) candidates.push({ source: 'cookie', ref: { kind: 'platform', platformId } });
  }
  return { candidates, hasCanaryCookie, cookieRoutable };
}
