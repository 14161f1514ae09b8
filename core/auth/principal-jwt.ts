import { BoundedCache } from '../cache/bounded-cache.js';
import { fromBase64Url, utf8 } from '../crypto/encoding.js';
import { hmacKey } from '../crypto/web-crypto.js';
import { isPlatformId } from '../platform-id.js';

/** Principal types that identify a platform; WORKER tokens and anything else are refused. */
export const PRINCIPAL_TYPES = ['USER', 'SERVICE', 'ENGINE'] as const;

/** Who a principal JWT names: the one verifier of the edge and the origin returns this or null. */
export interface Principal {
  /** The principal's own id (`id` claim) when the token carries one. */
  id: string | null;
  type: (typeof PRINCIPAL_TYPES)[number];
  platformId: string;
  /** `exp`, in seconds since the epoch: connections authenticated by the token must end then. */
  expiresAt: number;
}

function decodeJson(part: string): unknown {
  const bytes = fromBase64Url(part);
  if (bytes === null) return null;
  try {
    return JSON.parse(new TextDecoder().decode(bytes)) as unknown;
  } catch {
    return null;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPrincipalType(value: unknown): value is Principal['type'] {
  return PRINCIPAL_TYPES.some((type) => type === value);
}

/**
 * Verifies an HS256 principal JWT. Null for anything else: another algorithm (`none` included), a bad signature, a
 * missing, non-finite or past `exp`, a future or malformed `nbf`, a non-principal `type`, a missing `platform.id` or
 * one outside the platform-id rule (core/platform-id.ts: such an id could never be routed, pinned or put in a key).
 * The edge (routing) and the origin (authorisation) both call this, so a token means the same thing on both hosts.
 */
export async function verifyPrincipalJwt(token: string, secret: string, nowSeconds: number): Promise<Principal | null> {
  const parts = token.split('.');
  if (parts.length !== 3 || secret === '') return null;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (!isRecord(header) || header.alg !== 'HS256') return null;
  const signature = fromBase64Url(signaturePart);
  if (signature === null || signature.length !== 32) return null;
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(secret), signature, utf8(`${headerPart}.${payloadPart}`));
  if (!valid) return null;
  const payload = decodeJson(payloadPart);
  if (!isRecord(payload)) return null;
  const { exp, nbf, type, platform, id } = payload;
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= nowSeconds) return null;
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf > nowSeconds)) return null;
  if (!isPrincipalType(type)) return null;
  if (!isRecord(platform) || !isPlatformId(platform.id)) return null;
  if (id !== undefined && (typeof id !== 'string' || id === '')) return null;
  return { id: id ?? null, type, platformId: platform.id, expiresAt: exp };
}

/** Verifies principal JWTs under one secret: `verifyPrincipalJwt`, remembering tokens it found valid. */
export type PrincipalVerifier = (token: string, nowSeconds: number) => Promise<Principal | null>;

/**
 * `verifyPrincipalJwt` for one secret with a bounded memo of the tokens it found valid. A client sends the same token
 * on every request, so the HMAC and the two JSON decodes run once per token and isolate. Only valid tokens are kept
 * (made-up tokens cannot fill it), keyed by the whole token (a changed byte is another key), and a remembered token
 * is still refused from its `exp` on. `nbf` needs no re-check: a token is only remembered once `nbf` has passed.
 */
export function cachedPrincipalVerifier(secret: string, maxEntries = 5_000): PrincipalVerifier {
  const valid = new BoundedCache<Principal>(maxEntries);
  return async (token, nowSeconds) => {
    const known = valid.get(token);
    if (known !== undefined) {
      if (known.expiresAt > nowSeconds) return known;
      valid.delete(token);
      return null;
    }
    const principal = await verifyPrincipalJwt(token, secret, nowSeconds);
    if (principal !== null) valid.set(token, principal);
    return principal;
  };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null | undefined): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1] ?? null;
}
