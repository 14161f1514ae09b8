import { sign } from 'hono/jwt';
import { mintOverride } from '../../../core/auth/override-token.js';
import type { OverrideTarget } from '../../../core/auth/override-token.js';
import { signBuildCookie } from '../../../edge/resolve/build-cookie.js';
import { signCanaryCookie } from '../../../edge/resolve/canary-cookie.js';
import { FAKE_JWT_SECRET } from './fake-edge.js';

// Credentials a client presents, made the way clients get them (signed with the edge's secrets, or forged).

export type PrincipalType = 'USER' | 'SERVICE' | 'ENGINE' | 'WORKER';

const now = (): number => Math.floor(Date.now() / 1000);

/** A principal JWT for the platform (HS256 under the edge's secret unless told otherwise). */
export function principalJwt(platformId: string, options: { type?: PrincipalType; secret?: string; expiresIn?: number; exp?: boolean } = {}): Promise<string> {
  const payload: Record<string, unknown> = { id: 'user-1', type: options.type ?? 'USER', platform: { id: platformId }, iat: now() };
  if (options.exp !== false) payload.exp = now() + (options.expiresIn ?? 3600);
  return sign(payload, options.secret ?? FAKE_JWT_SECRET, 'HS256');
}

function b64url(text: string): string {
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An unsigned `alg: none` token naming the platform. */
export function algNoneJwt(platformId: string): string {
  return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ type: 'USER', platform: { id: platformId }, exp: now() + 3600 }))}.`;
}

/** `ap_canary=<value>` for the platform, valid for a day (or already expired). */
export async function canaryCookie(platformId: string, options: { expired?: boolean; secret?: string } = {}): Promise<string> {
  const value = await signCanaryCookie(platformId, options.secret ?? FAKE_JWT_SECRET, now() - (options.expired === true ? 90_000 : 0));
  if (value === null) throw new Error(`no cookie for ${platformId}`);
  return `ap_canary=${value}`;
}

/** A tester override token (minted now unless `issuedAtMs` says otherwise). */
export function overrideToken(target: OverrideTarget, platformId: string | null, options: { expired?: boolean; secret?: string; issuedAtMs?: number } = {}): Promise<string> {
  return mintOverride(options.secret ?? FAKE_JWT_SECRET, {
    target,
    platformId,
    expiresAt: now() + (options.expired === true ? -10 : 3600),
    ...(options.issuedAtMs === undefined ? {} : { issuedAtMs: options.issuedAtMs }),
  });
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** `ap_canary_build=<value>`: a document load's pin to `side`, issued `ageSeconds` ago (platform optional). */
export async function buildCookie(side: 'canary' | 'primary', options: { platformId?: string | null; ageSeconds?: number; secret?: string } = {}): Promise<string> {
  const value = await signBuildCookie({ side, issuedAtSeconds: now() - (options.ageSeconds ?? 10), platformId: options.platformId ?? null }, options.secret ?? FAKE_JWT_SECRET);
  if (value === null) throw new Error('no build cookie');
  return `ap_canary_build=${value}`;
}
