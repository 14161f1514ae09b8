import { Hono } from 'hono';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { verifyOverride } from '../../core/auth/override-token.js';
import type { Override } from '../../core/auth/override-token.js';
import { toBase64Url } from '../../core/crypto/encoding.js';
import { constantTimeEqual } from '../../core/crypto/web-crypto.js';
import { OverrideConfirm, OverrideCurrent, OverrideRefused } from '../admin-page/override-views.js';
import { OVERRIDE_CONFIRM_COOKIE, OVERRIDE_COOKIE } from '../edge-cookies.js';
import type { AppEnv } from '../types.js';

const PATH = '/__canary/override';
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A fresh confirmation nonce, in a SameSite=Strict cookie and in the form: a form posted from elsewhere has neither. */
function issueConfirm(c: Context<AppEnv>): string {
  const nonce = toBase64Url(crypto.getRandomValues(new Uint8Array(16)));
  setCookie(c, OVERRIDE_CONFIRM_COOKIE, nonce, { path: PATH, httpOnly: true, secure: true, sameSite: 'Strict', maxAge: 600 });
  return nonce;
}

async function confirmed(c: Context<AppEnv>, given: unknown): Promise<boolean> {
  const expected = getCookie(c, OVERRIDE_CONFIRM_COOKIE);
  return expected !== undefined && typeof given === 'string' && given !== '' && (await constantTimeEqual(given, expected));
}

/**
 * Whether the token was revoked (minted at or before the operators' last revocation), read in one lookup of the shared
 * state; null when no store answers (the page says nothing then; routing ignores an unverifiable token anyway).
 */
async function revoked(c: Context<AppEnv>, override: Override): Promise<boolean | null> {
  const answer = await c.get('services').membership.lookup({ kind: 'none' });
  return answer.overridesRevokedBeforeMs === null ? null : override.issuedAtMs <= answer.overridesRevokedBeforeMs;
}

/**
 * `/__canary/override`: the tester's browser link. A GET never sets anything: it shows what the token does (target,
 * scope, expiry) and, for a token of one platform, a button that POSTs it (a confirmation nonce in a SameSite=Strict
 * cookie, and the same-origin check, stop a form posted from another site). Tokens for any platform work only as the
 * header. Without a token the page shows this browser's override and clears it. Public: the token is the credential.
 */
export function overridePageRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get(PATH, async (c) => {
    const { jwtSecret } = c.get('services').config;
    const token = c.req.query('token');
    if (token === undefined) {
      const carried = getCookie(c, OVERRIDE_COOKIE);
      const current = carried === undefined ? null : await verifyOverride(carried, jwtSecret, nowSeconds());
      const flash = c.req.query('done') === 'cleared' ? 'The override is cleared: this browser is routed as usual.' : null;
      const state = current === null ? 'none' : current.ok ? 'valid' : 'invalid';
      return c.html(<OverrideCurrent current={current?.ok === true ? current.override : null} state={state} confirm={issueConfirm(c)} flash={flash} />);
    }
    const result = await verifyOverride(token, jwtSecret, nowSeconds());
    if (!result.ok) {
      c.get('log').override = `ignored:${result.reason}`;
      const what = result.reason === 'expired' ? 'expired' : 'not valid';
      return c.html(<OverrideRefused message={`This override link is ${what}. Ask for a new one (npx canary-edge override).`} />, 400);
    }
    const isRevoked = (await revoked(c, result.override)) === true;
    return c.html(<OverrideConfirm token={token} override={result.override} confirm={issueConfirm(c)} revoked={isRevoked} />);
  });

  app.post(PATH, async (c) => {
    const form = await c.req.parseBody();
    if (!(await confirmed(c, form.confirm))) {
      return c.html(<OverrideRefused message="This form was not sent from the override page of this browser. Open the link again." />, 403);
    }
    const token = typeof form.token === 'string' ? form.token : '';
    const nowS = nowSeconds();
    const result = await verifyOverride(token, c.get('services').config.jwtSecret, nowS);
    if (!result.ok) return c.html(<OverrideRefused message="This override is no longer valid. Ask for a new one." />, 400);
    if (result.override.platformId === null) {
      return c.html(<OverrideRefused message="A token for any platform works only as the x-canary-override header, never in a browser." />, 400);
    }
    if ((await revoked(c, result.override)) === true) return c.html(<OverrideRefused message="This token has been revoked. Ask for a new one." />, 400);
    c.get('log').override = `cookie-set:${result.override.target}`;
    deleteCookie(c, OVERRIDE_CONFIRM_COOKIE, { path: PATH, secure: true });
    setCookie(c, OVERRIDE_COOKIE, token, { path: '/', httpOnly: true, secure: true, sameSite: 'Lax', maxAge: result.override.expiresAt - nowS });
    return c.redirect('/', 303);
  });

  app.post(`${PATH}/clear`, async (c) => {
    const form = await c.req.parseBody();
    if (!(await confirmed(c, form.confirm))) {
      return c.html(<OverrideRefused message="This form was not sent from the override page of this browser. Open it again." />, 403);
    }
    deleteCookie(c, OVERRIDE_COOKIE, { path: '/', secure: true });
    return c.redirect(`${PATH}?done=cleared`, 303);
  });
  // The link the previous build printed: it now shows the page with the button (a GET changes nothing).
  app.get(`${PATH}/clear`, (c) => c.redirect(PATH, 303));

  return app;
}
