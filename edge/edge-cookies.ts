/** The `ap_canary` cookie: a canary principal's browser follows it (static reads, Socket.IO). Contract name. */
export const CANARY_COOKIE = 'ap_canary';
/** A tester's override in a browser (static reads and Socket.IO of its one platform). */
export const OVERRIDE_COOKIE = 'ap_canary_override';
/** The double-submit nonce of the override confirmation form on /__canary/override. */
export const OVERRIDE_CONFIRM_COOKIE = 'ap_canary_override_confirm';
/** Which build served the document a browser loaded (skew protection: its static reads go to that build). Contract name. */
export const BUILD_COOKIE = 'ap_canary_build';
/** The admin page's session. Contract name. */
export const SESSION_COOKIE = 'ap_canary_admin';
/** The sign-in form's double-submit cookie (login CSRF). */
export const LOGIN_COOKIE = 'ap_canary_admin_login';

/**
 * Cookies only the edge may set. An origin's `Set-Cookie` for one of these is dropped on the way to the client: no
 * origin build (an untested canary included) can plant a routing credential or an admin session.
 */
export const EDGE_COOKIE_NAMES: ReadonlySet<string> = new Set([CANARY_COOKIE, BUILD_COOKIE, OVERRIDE_COOKIE, OVERRIDE_CONFIRM_COOKIE, SESSION_COOKIE, LOGIN_COOKIE]);
