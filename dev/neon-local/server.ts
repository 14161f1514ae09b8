import http from 'node:http';
import type { Socket } from 'node:net';
import { handleSqlRequest } from './http-query.js';
import type { SqlCounters } from './http-query.js';
import { sendJson } from './json-response.js';
import { NeonHttpError, messageOf } from './neon-error.js';
import { PoolRegistry } from './pools.js';

export interface NeonLocalOptions {
  /** 0 or omitted: a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface NeonLocalStats {
  /** `POST /sql` requests received, including rejected ones. */
  requests: number;
  /** Customer SQL statements sent to Postgres (a batch of 3 counts 3; BEGIN/COMMIT/ROLLBACK are not counted). */
  queries: number;
  reset(): void;
}

export interface NeonLocal {
  /** `http://HOST:PORT` */
  url: string;
  /** What `neonConfig.fetchEndpoint` must be set to: `http://HOST:PORT/sql`. */
  fetchEndpoint: string;
  port: number;
  stats: NeonLocalStats;
  /** Stops listening, drops open connections and ends the Postgres pools; the port can be reused afterwards. */
  close(): Promise<void>;
}

/** Neon itself allows less; local tooling sends bulk seeds and large payload tests through here. */
const MAX_REQUEST_BYTES = 64 * 1024 * 1024;

/** What Neon answers a CORS preflight with. */
const PREFLIGHT_HEADERS = {
  Allow: 'OPTIONS, POST',
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers':
    'Authorization, Neon-Connection-String, Neon-Raw-Text-Output, Neon-Array-Mode, Neon-Pool-Opt-In, Neon-Batch-Read-Only, Neon-Batch-Isolation-Level',
  'Access-Control-Max-Age': '86400',
};

function createStats(): NeonLocalStats {
  const stats: NeonLocalStats = {
    requests: 0,
    queries: 0,
    reset: () => {
      stats.requests = 0;
      stats.queries = 0;
    },
  };
  return stats;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string') reject(new Error('neon-local: not listening on TCP'));
      else resolve(address.port);
    });
  });
}

/** Starts a local stand-in for Neon's SQL-over-HTTP endpoint, running each request on the Postgres it names. */
export async function startNeonLocal(options: NeonLocalOptions = {}): Promise<NeonLocal> {
  const host = options.host ?? '127.0.0.1';
  const pools = new PoolRegistry();
  const stats = createStats();
  const counters: SqlCounters = stats;
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    // A client that hangs up mid-response must not become an unhandled 'error'.
    res.on('error', () => undefined);
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/sql' && req.method === 'POST') {
      handleSqlRequest(req, res, { pools, counters, maxRequestBytes: MAX_REQUEST_BYTES }).catch((error: unknown) => {
        sendJson(res, 500, new NeonHttpError(500, messageOf(error)).body());
      });
    } else if (path === '/sql' && req.method === 'OPTIONS') {
      res.writeHead(200, PREFLIGHT_HEADERS).end();
    } else {
      sendJson(res, 400, 'query is not supported');
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const port = await listen(server, options.port ?? 0, host);
  server.on('error', (error) => console.error('neon-local: server error', error));
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    fetchEndpoint: `${url}/sql`,
    port,
    stats,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await stopped;
        await pools.closeAll();
      })();
      return closing;
    },
  };
}
