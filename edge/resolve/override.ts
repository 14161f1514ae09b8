import { parse } from 'hono/utils/cookie';
import { verifyOverride } from '../../core/auth/override-token.js';
import type { Override } from '../../core/auth/override-token.js';
import { OVERRIDE_COOKIE } from '../edge-cookies.js';

/** Header carrying a tester's override token. */
export const OVERRIDE_HEADER = 'x-canary-override';
/** Response header telling a tester where an honoured override sent the request. */
export const ROUTED_HEADER = 'x-canary-routed';

/** Where a presented override came from: the header (any request), or the browser's cookie (static reads, Socket.IO). */
export type OverrideCarrier = 'header' | 'cookie';

/** What a request's override amounts to: none presented, a valid one, or one ignored (and why). */
export type PresentedOverride = { kind: 'none' } | { kind: 'valid'; override: Override; from: OverrideCarrier } | { kind: 'ignored'; reason: string };

/** The request's override (header first, then cookie), verified; never throws, never rejects the request. */
export async function presentedOverride(
  header: string | null,
  cookieHeader: string | null,
  secret: string,
  nowSeconds: number,
): Promise<PresentedOverride> {
  // Most requests carry no override cookie: a substring test spares them a second parse of the Cookie header.
  const fromCookie = cookieHeader?.includes(OVERRIDE_COOKIE) === true ? parse(cookieHeader, OVERRIDE_COOKIE)[OVERRIDE_COOKIE] : undefined;
  const token = header ?? fromCookie ?? null;
  if (token === null || token === '') return { kind: 'none' };
  const result = await verifyOverride(token.trim(), secret, nowSeconds);
  return result.ok ? { kind: 'valid', override: result.override, from: header === null ? 'cookie' : 'header' } : { kind: 'ignored', reason: result.reason };
}
