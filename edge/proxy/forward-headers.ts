import { EDGE_COOKIE_NAMES, OVERRIDE_COOKIE } from '../edge-cookies.js';

// RFC 9110 §7.6.1 connection-specific fields, plus proxy-only ones; `upgrade` is restored for WebSocket requests.
const HOP_BY_HOP = [
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
];

// Headers that tell an origin who the client is or which URL it asked for. Only the edge may say that (it sets
// X-Forwarded-For/-Host/-Proto itself); a client's own values could spoof its address or rewrite the route behind
// the edge's back (X-Original-URL / X-Rewrite-URL are honoured by some frameworks and proxies).
const CLIENT_SPOOFABLE = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'x-original-url',
  'x-rewrite-url',
  'x-original-host',
  'x-host',
  // The tester's override token is the edge's business only; origins never see it.
  'x-canary-override',
  // Set by the edge alone (ROUTED_BY_HEADER): a client's copy would make the origin spare its sockets at a move.
  'x-canary-routed-by',
];

/** Tells the origin a request was routed by a tester's override, not by membership (its sockets are not moved). */
export const ROUTED_BY_HEADER = 'x-canary-routed-by';

function stripHopByHop(headers: Headers): void {
  const listed = (headers.get('connection') ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  for (const name of [...HOP_BY_HOP, ...listed]) headers.delete(name);
}

/** True for a WebSocket upgrade request. */
export function isWebSocketUpgrade(headers: Headers): boolean {
  return (headers.get('upgrade') ?? '').toLowerCase() === 'websocket';
}

export interface ForwardContext {
  /** Client address as the platform reports it (`CF-Connecting-IP`); incoming X-Forwarded-For is not trusted. */
  clientIp: string | null;
  host: string;
  proto: string;
  /** `override`: a tester's override chose the origin (ROUTED_BY_HEADER); null: membership did. */
  routedBy?: 'override' | null;
}

/** The Cookie header without the tester's override cookie (a routing credential of the edge's, not the app's). */
function withoutOverrideCookie(cookie: string): string {
  return cookie
    .split(';')
    .filter((part) => part.trim().split('=', 1)[0] !== OVERRIDE_COOKIE)
    .join(';')
    .trim();
}

// Never forwarded to an origin, whatever the request says: hop-by-hop, the client's Host, and what it could spoof.
const DROPPED_REQUEST_HEADERS = new Set<string>([...HOP_BY_HOP, 'host', ...CLIENT_SPOOFABLE]);

/**
 * Request headers for the origin: hop-by-hop and client-spoofable ones removed, `X-Forwarded-*` set by the edge.
 * Built in one pass over the incoming headers (a Headers call crosses into the runtime; one per kept header is the
 * least a copy can cost, where copying everything and deleting two dozen names cost three times as many).
 */
export function requestHeadersForOrigin(incoming: Headers, ctx: ForwardContext): Headers {
  const listed = (incoming.get('connection') ?? '').split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
  const websocket = isWebSocketUpgrade(incoming);
  const headers = new Headers();
  for (const [name, value] of incoming) {
    if (DROPPED_REQUEST_HEADERS.has(name) || listed.includes(name)) continue;
    if (name === 'cookie' && value.includes(`${OVERRIDE_COOKIE}=`)) {
      const rest = withoutOverrideCookie(value);
      if (rest !== '') headers.append('cookie', rest);
      continue;
    }
    headers.append(name, value);
  }
  if (ctx.clientIp !== null) headers.set('x-forwarded-for', ctx.clientIp);
  headers.set('x-forwarded-host', ctx.host);
  headers.set('x-forwarded-proto', ctx.proto);
  if (websocket) headers.set('upgrade', 'websocket');
  if (ctx.routedBy === 'override') headers.set(ROUTED_BY_HEADER, 'override');
  return headers;
}

/** The name of the cookie a `Set-Cookie` value sets. */
function cookieName(setCookie: string): string {
  return setCookie.slice(0, setCookie.indexOf('=') === -1 ? 0 : setCookie.indexOf('=')).trim();
}

/** Response headers for the client: hop-by-hop removed, and any `Set-Cookie` for a cookie only the edge may set. */
export function responseHeadersForClient(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  stripHopByHop(headers);
  const cookies = headers.getSetCookie();
  if (cookies.some((c) => EDGE_COOKIE_NAMES.has(cookieName(c)))) {
    headers.delete('set-cookie');
    for (const c of cookies) if (!EDGE_COOKIE_NAMES.has(cookieName(c))) headers.append('set-cookie', c);
  }
  return headers;
}
