import { fromBase64Url, toBase64Url, toHex, utf8 } from '../crypto/encoding.js';
import { hmacKey } from '../crypto/web-crypto.js';
import { isPlatformId } from '../platform-id.js';

/** Where an override sends a request. */
export type OverrideTarget = 'canary' | 'primary';

/** A valid override: its target, the platform it is limited to (if any), when it expires, and when it was minted. */
export interface Override {
  target: OverrideTarget;
  platformId: string | null;
  /** Epoch seconds. */
  expiresAt: number;
  /** Epoch milliseconds; a revocation ignores every token minted at or before its instant (0: a token of an older build). */
  issuedAtMs: number;
}

/** Why a presented override was not honoured (each is logged; the request is routed as usual). */
export type OverrideRejection = 'malformed' | 'tampered' | 'expired';

const PREFIX = 'ov1';
const KEY_CONTEXT = 'ap_canary_override.key.v1';

const derivedKeys = new Map<string, Promise<string>>();

/**
 * The override key: HMAC(AP_JWT_SECRET, a context of its own), derived for this purpose only, so an override token
 * can never be produced with (or pass for) a JWT or a canary cookie, and knowing one of those MACs forges nothing here.
 */
function overrideKey(secret: string): Promise<string> {
  let key = derivedKeys.get(secret);
  if (key === undefined) {
    key = hmacKey(secret).then(async (k) => toHex(await crypto.subtle.sign('HMAC', k, utf8(KEY_CONTEXT))));
    derivedKeys.set(secret, key);
  }
  return key;
}

/** Mints `ov1.<payload>.<mac>` routing to `target` (limited to one platform when given) until `expiresAt`. */
export async function mintOverride(secret: string, override: Omit<Override, 'issuedAtMs'> & { issuedAtMs?: number }): Promise<string> {
  const issuedAtMs = override.issuedAtMs ?? Date.now();
  const payload = toBase64Url(utf8(JSON.stringify({ t: override.target, p: override.platformId, e: override.expiresAt, i: issuedAtMs })));
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(await overrideKey(secret)), utf8(`${PREFIX}.${payload}`));
  return `${PREFIX}.${payload}.${toBase64Url(mac)}`;
}

/** The override a token carries, or why it is refused (malformed, tampered with or foreign, expired). */
export async function verifyOverride(
  token: string,
  secret: string,
  nowSeconds: number,
): Promise<{ ok: true; override: Override } | { ok: false; reason: OverrideRejection }> {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || token.length > 1024 || secret === '') return { ok: false, reason: 'malformed' };
  const [, payloadPart, macPart] = parts as [string, string, string];
  const mac = fromBase64Url(macPart);
  const payloadBytes = fromBase64Url(payloadPart);
  if (mac === null || mac.length !== 32 || payloadBytes === null) return { ok: false, reason: 'malformed' };
  const valid = await crypto.subtle.verify('HMAC', await hmacKey(await overrideKey(secret)), mac, utf8(`${PREFIX}.${payloadPart}`));
  // A token minted with another secret (another deployment's) is indistinguishable from a tampered one.
  if (!valid) return { ok: false, reason: 'tampered' };
  let payload: unknown;
  try {
    payload = JSON.parse(new TextDecoder().decode(payloadBytes)) as unknown;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  const { t, p, e, i } = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
  if ((t !== 'canary' && t !== 'primary') || typeof e !== 'number' || !Number.isFinite(e)) return { ok: false, reason: 'malformed' };
  if (p !== null && !isPlatformId(p)) return { ok: false, reason: 'malformed' };
  if (i !== undefined && (typeof i !== 'number' || !Number.isSafeInteger(i) || i < 0)) return { ok: false, reason: 'malformed' };
  if (e <= nowSeconds) return { ok: false, reason: 'expired' };
  return { ok: true, override: { target: t, platformId: p, expiresAt: e, issuedAtMs: i ?? 0 } };
}
