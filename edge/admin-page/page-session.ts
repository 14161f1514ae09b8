import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { StoreError } from '../../core/membership/index.js';
import { SESSION_COOKIE } from '../edge-cookies.js';
import type { AppEnv } from '../types.js';
import { PAGE_PATH, SESSION_SECONDS, newSession, verifySession } from './session.js';

/** The request's page session: its nonce when signed in, `none`, or `unavailable` when the database cannot tell. */
export type PageSession = { kind: 'live'; nonce: string } | { kind: 'none' } | { kind: 'unavailable' };

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/**
 * The session of this request: the cookie's MAC first (no database read for a forged or expired cookie), then its row
 * (server-side, so a signed-out session is over even while its cookie is still in some browser).
 */
export async function pageSession(c: Context<AppEnv>): Promise<PageSession> {
  const { config, sessions, reportStoreError } = c.get('services');
  const nonce = await verifySession(getCookie(c, SESSION_COOKIE), config.apiKey, nowSeconds());
  if (nonce === null) return { kind: 'none' };
  try {
    return (await sessions.isLive(nonce)) ? { kind: 'live', nonce } : { kind: 'none' };
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    reportStoreError('admin-page-session', error);
    return { kind: 'unavailable' };
  }
}

/** Starts a session (its row first, then the cookie). Throws StoreError when the database is down. */
export async function startPageSession(c: Context<AppEnv>): Promise<void> {
  const { config, sessions } = c.get('services');
  const { value, nonce, expires } = await newSession(config.apiKey, nowSeconds());
  await sessions.create(nonce, new Date(expires * 1000));
  setCookie(c, SESSION_COOKIE, value, { path: PAGE_PATH, httpOnly: true, secure: true, sameSite: 'Strict', maxAge: SESSION_SECONDS });
}

/** Removes the session cookie from this browser. */
export function dropSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, SESSION_COOKIE, { path: PAGE_PATH, secure: true });
}
