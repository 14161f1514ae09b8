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
}

/** Request headers for the origin: hop-by-hop removed, `Host` left to fetch, `X-Forwarded-*` set by the edge. */
export function requestHeadersForOrigin(incoming: Headers, ctx: ForwardContext): Headers {
  const headers = new Headers(incoming);
  const websocket = isWebSocketUpgrade(incoming);
  stripHopByHop(headers);
  headers.delete('host');
  headers.delete('x-forwarded-for');
  if (ctx.clientIp !== null) headers.set('x-forwarded-for', ctx.clientIp);
  headers.set('x-forwarded-host', ctx.host);
  headers.set('x-forwarded-proto', ctx.proto);
  if (websocket) headers.set('upgrade', 'websocket');
  return headers;
}

/** Response headers for the client: hop-by-hop removed. */
export function responseHeadersForClient(incoming: Headers): Headers {
  const headers = new Headers(incoming);
  stripHopByHop(headers);
  return headers;
}
