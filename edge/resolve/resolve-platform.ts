import type { PlatformRef } from '../../core/membership/index.js';
import { sha256Hex } from '../lib/crypto.js';
import { readCanaryCookie, verifyCanaryCookie } from './canary-cookie.js';
import { platformIdFromJwt } from './principal-jwt.js';
import { flowIdFromPath } from './webhook-path.js';

/** Which request property named the platform. `jwt` and `api-key` are principals. */
export type PlatformSource = 'jwt' | 'api-key' | 'webhook' | 'cookie' | 'none';

export interface Resolution {
  source: PlatformSource;
  ref: PlatformRef | null;
  /** The request carries an `ap_canary` cookie (valid or not), so a non-canary answer should clear it. */
  hasCanaryCookie: boolean;
}

export interface ResolveInput {
  authorization: string | null;
  cookie: string | null;
  pathname: string;
}

/** Resolves what names the request's platform, first match wins: JWT, API key, webhook flow, canary cookie. */
export async function resolvePlatform(input: ResolveInput, jwtSecret: string, nowSeconds: number): Promise<Resolution> {
  const cookieValue = readCanaryCookie(input.cookie);
  const hasCanaryCookie = cookieValue !== null;
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(input.authorization ?? '')?.[1] ?? null;
  if (bearer !== null) {
    if (bearer.startsWith('sk-')) {
      return { source: 'api-key', ref: { kind: 'api-key', hashedKey: await sha256Hex(bearer) }, hasCanaryCookie };
    }
    const platformId = await platformIdFromJwt(bearer, jwtSecret, nowSeconds);
    if (platformId !== null) return { source: 'jwt', ref: { kind: 'platform', platformId }, hasCanaryCookie };
  }
  const flowId = flowIdFromPath(input.pathname);
  if (flowId !== null) return { source: 'webhook', ref: { kind: 'flow', flowId }, hasCanaryCookie };
  if (cookieValue !== null) {
    const platformId = await verifyCanaryCookie(cookieValue, jwtSecret, nowSeconds);
    if (platformId !== null) return { source: 'cookie', ref: { kind: 'platform', platformId }, hasCanaryCookie };
  }
  return { source: 'none', ref: null, hasCanaryCookie };
}
