import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { allocatePort } from './ports.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface EchoOrigin {
  name: string;
  url: string;
  port: number;
  requests: RecordedRequest[];
  /**
   * From now on, answers the requests `matches` picks with `status` and an `injected_fault` JSON error (null: echo
   * them again): a canary that fails one tenant.
   */
  failWhen(matches: ((request: RecordedRequest) => boolean) | null, status?: number): void;
  close(): Promise<void>;
}

const CHUNK = 64 * 1024;
/** Deterministic byte pattern so both ends can verify a transfer without holding it in memory. */
export function patternChunk(offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (offset + i) % 251;
  return buf;
}

function streamPattern(res: http.ServerResponse, total: number): void {
  let sent = 0;
  const pump = (): void => {
    while (sent < total) {
      const n = Math.min(CHUNK, total - sent);
      const ok = res.write(patternChunk(sent, n));
      sent += n;
      if (!ok) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/**
 * A test origin over a real socket. Every response carries `x-origin: <name>`. Routes:
 * `/__bytes/down?n=N` streams N pattern bytes; `/__bytes/up` consumes the body and answers its size and sha256;
 * `/__status/<code>` answers that status; `/__cookies` sets two cookies; WebSocket upgrades echo `<name>:<message>`; anything else echoes the
 * request (method, raw target, headers) as JSON.
 */
export async function startEchoOrigin(name: string, port?: number): Promise<EchoOrigin> {
  const requests: RecordedRequest[] = [];
  let failing: { matches: (request: RecordedRequest) => boolean; status: number } | null = null;
  const server = http.createServer((req, res) => {
    const recorded = { method: req.method ?? '', url: req.url ?? '', headers: req.headers };
    requests.push(recorded);
    res.setHeader('x-origin', name);
    if (failing?.matches(recorded) === true) {
      req.resume();
      res.writeHead(failing.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'injected_fault', message: 'fault injected by the test origin' } }));
      return;
    }
    const url = new URL(req.url ?? '/', 'http://origin.invalid');
    if (url.pathname === '/__bytes/down') {
      const n = Number(url.searchParams.get('n') ?? '0');
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      streamPattern(res, n);
      return;
    }
    if (url.pathname === '/__bytes/up') {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        hash.update(chunk);
      });
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ bytes, sha256: hash.digest('hex') }));
      });
      return;
    }
    if (url.pathname === '/__cookies') {
      res.setHeader('set-cookie', ['a=1; Path=/', 'b=2; Path=/; HttpOnly']);
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store', etag: '"v1"' });
      res.end('two cookies');
      return;
    }
    const status = /^\/__status\/(\d{3})$/.exec(url.pathname)?.[1];
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      res.writeHead(status ? Number(status) : 200, { 'content-type': 'application/json', 'x-echo-custom': 'origin-value' });
      if (req.method === 'HEAD' || status === '204' || status === '304') {
        res.end();
        return;
      }
      res.end(
        JSON.stringify({
          origin: name,
          method: req.method,
          url: req.url,
          headers: req.headers,
          bodySha256: createHash('sha256').update(body).digest('hex'),
          bodyBytes: body.length,
        }),
      );
    });
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: 'UPGRADE', url: req.url ?? '', headers: req.headers });
    wss.handleUpgrade(req, socket, head, (ws) => {
      ws.on('message', (data, isBinary) => ws.send(isBinary ? data : `${name}:${String(data)}`));
    });
  });
  // An allocated port, so a drill can stop the origin and start it again on the same number.
  const chosen = port ?? (await allocatePort());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(chosen, '127.0.0.1', () => resolve());
  });
  const actual = (server.address() as AddressInfo).port;
  return {
    name,
    url: `http://127.0.0.1:${actual}`,
    port: actual,
    requests,
    failWhen(matches, status = 500) {
      failing = matches === null ? null : { matches, status };
    },
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
