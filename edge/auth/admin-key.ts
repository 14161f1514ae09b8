import type { Context } from 'hono';
import { constantTimeEqual } from '../../core/crypto/web-crypto.js';
import type { AppEnv } from '../types.js';

/** How long a client over its failed-authentication budget is refused (the limiter's period, wrangler.toml). */
export const ADMIN_AUTH_RETRY_AFTER_SECONDS = 60;

/** What an admin key check concluded. `blocked`: too many failures from this client; refused whatever the key. */
export type AdminKeyCheck = 'ok' | 'missing' | 'wrong' | 'blocked';

/**
 * Checks an admin key (API `api-key` header or the page's sign-in form) in constant time, within a budget of failed
 * attempts per client IP (ADMIN_AUTH_LIMITER, Workers Rate Limiting; the only counter Workers offer, and it can only be
 * counted up). A failure spends budget; once the limiter refuses, this isolate refuses every attempt of that client —
 * the right key included — until the period ends, so over budget a client learns nothing from trying. Other isolates
 * refuse it from their own next failure on: beyond the budget a client gets at most one answer per isolate per period.
 * A limiter that fails admits (the budget must never lock operators out of a working edge); missing keys cost nothing.
 */
export async function checkAdminKey(c: Context<AppEnv>, given: string | undefined): Promise<AdminKeyCheck> {
  const { config, adminAuthBlocks } = c.get('services');
  const client = c.req.header('cf-connecting-ip') ?? 'unknown-client';
  const now = Date.now();
  const blockedUntil = adminAuthBlocks.get(client);
  if (blockedUntil !== undefined) {
    if (blockedUntil > now) return 'blocked';
    adminAuthBlocks.delete(client);
  }
  if (given === undefined || given === '') return 'missing';
  if (await constantTimeEqual(given, config.apiKey)) return 'ok';
  let admitted = true;
  try {
    admitted = (await c.env.ADMIN_AUTH_LIMITER.limit({ key: client })).success;
  } catch (error) {
    c.get('log').error = `admin auth limiter failed, attempt counted as a plain failure: ${error instanceof Error ? error.name : 'error'}`;
  }
  if (admitted) return 'wrong';
  adminAuthBlocks.set(client, now + ADMIN_AUTH_RETRY_AFTER_SECONDS * 1000);
  return 'blocked';
}
