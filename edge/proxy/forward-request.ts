import { isWebSocketUpgrade, requestHeadersForOrigin, responseHeadersForClient } from './forward-headers.js';
import type { ForwardContext } from './forward-headers.js';
import { targetUrl } from './target-url.js';

export type OriginName = 'primary' | 'canary';

export interface ForwardOptions {
  /** The runtime's fetch (a stand-in in unit tests). */
  fetch: (url: URL, init: RequestInit) => Promise<Response>;
  request: Request;
  url: URL;
  origin: OriginName;
  primaryUrl: string;
  canaryUrl: string;
  forward: ForwardContext;
}

export type ForwardOutcome =
  | { kind: 'response'; response: Response; servedBy: OriginName; fellBack: boolean }
  | { kind: 'unreachable'; origin: OriginName; error: unknown; fellBack: boolean };

// Only requests without side effects (and without a body to replay) may be retried on the primary.
const REPLAYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
// Cloudflare answers these itself when it could not reach or hand the request to the origin at all (web server
// down, connection timed out, origin unreachable, TLS handshake/certificate failure, DNS): the origin never saw the
// request. 520 and 524 are absent on purpose: there the origin may have processed it.
const ORIGIN_NEVER_REACHED = new Set([521, 522, 523, 525, 526, 530]);

class OriginNotReached extends Error {
  constructor(readonly status: number) {
    super(`origin answered ${status} via the edge network: never reached`);
  }
}

async function send(base: string, opts: ForwardOptions, origin: OriginName): Promise<Response> {
  const method = opts.request.method;
  const hasBody = method !== 'GET' && method !== 'HEAD' && opts.request.body !== null;
  const response = await opts.fetch(targetUrl(base, opts.url), {
    method,
    headers: requestHeadersForOrigin(opts.request.headers, opts.forward),
    body: hasBody ? opts.request.body : null,
    redirect: 'manual',
  });
  if (origin === 'canary' && ORIGIN_NEVER_REACHED.has(response.status)) {
    await response.body?.cancel();
    throw new OriginNotReached(response.status);
  }
  return response;
}

/**
 * Streams the request to the chosen origin and the response back (bodies are never buffered). When the canary is
 * unreachable (the fetch fails, or Cloudflare reports it never reached it) a replayable request is served by the
 * primary instead; anything else is reported as unreachable.
 */
export async function forwardRequest(opts: ForwardOptions): Promise<ForwardOutcome> {
  const base = opts.origin === 'canary' ? opts.canaryUrl : opts.primaryUrl;
  let response: Response;
  let servedBy = opts.origin;
  let fellBack = false;
  try {
    response = await send(base, opts, opts.origin);
  } catch (error) {
    // A body already streamed towards the canary cannot be sent again, so only bodiless requests are replayed.
    if (opts.origin !== 'canary' || !REPLAYABLE.has(opts.request.method) || opts.request.body !== null) {
      return { kind: 'unreachable', origin: opts.origin, error, fellBack: false };
    }
    try {
      response = await send(opts.primaryUrl, opts, 'primary');
      servedBy = 'primary';
      fellBack = true;
    } catch (primaryError) {
      return { kind: 'unreachable', origin: 'primary', error: primaryError, fellBack: true };
    }
  }
  // A 101 carries the WebSocket; it must be returned as is.
  if (response.status === 101 || (isWebSocketUpgrade(opts.request.headers) && response.webSocket)) {
    return { kind: 'response', response, servedBy, fellBack };
  }
  const headers = responseHeadersForClient(response.headers);
  return {
    kind: 'response',
    response: new Response(response.body, { status: response.status, statusText: response.statusText, headers }),
    servedBy,
    fellBack,
  };
}
