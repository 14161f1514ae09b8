import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy in front of a real origin that can be told to fail: the canary "starts answering 500" while its
 * process (and the guard it runs) stays up. When the origin behind it is gone, the client's connection is reset,
 * as a dead origin would do.
 */
export interface FaultProxy {
  url: string;
  /** From now on, answer every request with this status (null: forward again). */
  fail(status: number | null): void;
  /** From now on, answer the requests whose principal JWT names `platformId` with this status (null: forward again). */
  failPlatform(platformId: string, status: number | null): void;
  /** Requests seen, and how many were answered with the injected failure. */
  readonly stats: { requests: number; injected: number };
  close(): Promise<void>;
}

/** The platform a principal JWT names (payload read, not verified: the edge verified it before forwarding). */
function platformOf(authorization: string | undefined): string | null {
  const payload = /^Bearer [^.]+\.([^.]+)\./.exec(authorization ?? '')?.[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { platform?: { id?: unknown } };
    return typeof claims.platform?.id === 'string' ? claims.platform.id : null;
  } catch {
    return null;
  }
}

/** Starts a proxy to `targetUrl` on an ephemeral loopback port. */
export async function startFaultProxy(targetUrl: string): Promise<FaultProxy> {
  const target = new URL(targetUrl);
  let failing: number | null = null;
  const failingPlatforms = new Map<string, number>();
  const stats = { requests: 0, injected: 0 };
  const server = http.createServer((req, res) => {
    stats.requests++;
    const injected = failing ?? failingPlatforms.get(platformOf(req.headers.authorization) ?? '') ?? null;
    if (injected !== null) {
      stats.injected++;
      req.resume();
      res.writeHead(injected, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'injected_fault', message: 'fault injected by the test proxy' } }));
      return;
    }
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    fail(status) {
      failing = status;
    },
    failPlatform(platformId, status) {
      if (status === null) failingPlatforms.delete(platformId);
      else failingPlatforms.set(platformId, status);
    },
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
