import { hmacKey } from '../lib/crypto.js';
import { fromBase64Url, utf8 } from '../lib/encoding.js';

/** Principal types that identify a platform; WORKER tokens and anything else resolve nothing. */
export const PRINCIPAL_TYPES = ['USER', 'SERVICE', 'ENGINE'] as const;

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

/**
 * Verifies an HS256 principal JWT and returns its `platform.id`, or null for anything else: other algorithms
 * (including `none`), a bad signature, a missing or past `exp`, a future `nbf`, or a non-principal `type`.
 */
export async function platformIdFromJwt(token: string, secret: string, nowSeconds: number): Promise<string | null> {
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
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || payload.exp <= nowSeconds) return null;
  if (payload.nbf !== undefined && (typeof payload.nbf !== 'number' || payload.nbf > nowSeconds)) return null;
  if (!PRINCIPAL_TYPES.includes(payload.type as (typeof PRINCIPAL_TYPES)[number])) return null;
  const platform = payload.platform;
  if (!isRecord(platform) || typeof platform.id !== 'string' || platform.id === '') return null;
  return platform.id;
}
