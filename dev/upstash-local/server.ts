import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { Redis } from 'ioredis';
import { isAuthorized } from './auth.js';
import { encodeResult } from './encode.js';
import type { CommandOutcome } from './execute.js';
import { runCommand, runPipeline, runTransaction } from './execute.js';
import { readJsonBody, sendJson } from './http-io.js';
import { parseCommand, parseCommandList } from './parse-body.js';
import type { RedisCommand } from './parse-body.js';
import { CommandStats } from './stats.js';
import type { UpstashLocalStats } from './stats.js';

export type { UpstashLocalStats } from './stats.js';

/** A command as the stats count it: its name, and for a script the SHA-1 it runs. */
function counted(command: RedisCommand): { name: string; script?: string } {
  if (command.name === 'EVALSHA') return { name: command.name, script: command.args[0]?.toLowerCase() };
  if (command.name === 'EVAL') return { name: command.name, script: createHash('sha1').update(command.args[0] ?? '').digest('hex') };
  return { name: command.name };
}

export interface UpstashLocalOptions {
  /** Redis to serve, e.g. redis://127.0.0.1:6379/3 (the path picks the logical database). */
  redisUrl: string;
  /** The REST token clients must present as `Authorization: Bearer <token>`. */
  token: string;
  /** 0 or omitted = a random free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface UpstashLocal {
  /** e.g. http://127.0.0.1:PORT — pass it as `url` to `new Redis({ url, token })` from `@upstash/redis`. */
  url: string;
  port: number;
  stats: UpstashLocalStats;
  /** Stops accepting, destroys open sockets and quits the Redis connections; the port is free once it resolves. */
  close(): Promise<void>;
}

// Far above the several-MB bodies real traffic sends (a script with 100,000 arguments), so only a runaway client
// ever sees the 413.
const MAX_BODY_BYTES = 128 * 1024 * 1024;

type Route = 'command' | 'pipeline' | 'multi-exec';
const ROUTES = new Map<string, Route>([['/', 'command'], ['/pipeline', 'pipeline'], ['/multi-exec', 'multi-exec']]);

interface Context {
  token: string;
  shared: Redis;
  transactions: Redis;
  stats: CommandStats;
  /** Echoed as `upstash-sync-token`, which the client stores and sends back (read-your-writes); Redis here is one node. */
  nextSyncToken(): string;
}

function createRedis(url: string, name: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectionName: name,
    // A request should fail while Redis is down, not wait through twenty reconnects.
    maxRetriesPerRequest: 1,
    // Never replay a half-sent command (INCR, a MULTI block) on reconnect: the HTTP caller already got an error.
    autoResendUnfulfilledCommands: false,
  });
  // Failures surface per request as HTTP 500 responses; the listener keeps ioredis from crashing the process.
  redis.on('error', () => undefined);
  return redis;
}

function pipelineBody(outcomes: readonly CommandOutcome[], base64: boolean): unknown[] {
  return outcomes.map((outcome) => ('error' in outcome ? { error: outcome.error } : { result: encodeResult(outcome.result, base64) }));
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: Context): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://upstash-local');
  const headers = { 'upstash-sync-token': ctx.nextSyncToken() };
  if (!isAuthorized(req.headers.authorization, url.searchParams.get('_token'), ctx.token)) {
    return sendJson(res, 401, { error: 'Unauthorized' }, headers);
  }
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  const route = ROUTES.get(path);
  if (route === undefined) {
    const streaming = /^\/p?subscribe(\/|$)/i.test(path);
    return sendJson(res, streaming ? 400 : 404, {
      error: streaming
        ? 'ERR SUBSCRIBE is not supported by the local Upstash endpoint (no server-sent event streams)'
        : `ERR unknown endpoint ${path}: POST a command to /, or command lists to /pipeline or /multi-exec`,
    }, headers);
  }
  if (req.method !== 'POST') {
    return sendJson(res, 405, { error: 'Method Not Allowed' }, { ...headers, allow: 'POST' });
  }
  const body = await readJsonBody(req, MAX_BODY_BYTES);
  if (!body.ok) return sendJson(res, body.status, { error: body.error }, headers);
  const base64 = String(req.headers['upstash-encoding'] ?? '').toLowerCase() === 'base64';

  if (route === 'command') {
    const parsed = parseCommand(body.value);
    if (!parsed.ok) return sendJson(res, 400, { error: parsed.error }, headers);
    ctx.stats.record([counted(parsed.value)]);
    const outcome = await runCommand(ctx.shared, parsed.value);
    if ('error' in outcome) return sendJson(res, 400, { error: outcome.error }, headers);
    return sendJson(res, 200, { result: encodeResult(outcome.result, base64) }, headers);
  }

  const parsed = parseCommandList(body.value);
  if (!parsed.ok) return sendJson(res, 400, { error: parsed.error }, headers);
  ctx.stats.record(parsed.value.map(counted));
  if (route === 'pipeline') {
    const outcomes = await runPipeline(ctx.shared, parsed.value);
    return sendJson(res, 200, pipelineBody(outcomes, base64), headers);
  }
  const transaction = await runTransaction(ctx.transactions, parsed.value);
  if ('aborted' in transaction) return sendJson(res, 400, { error: transaction.aborted }, headers);
  return sendJson(res, 200, pipelineBody(transaction.results, base64), headers);
}

function listen(server: ReturnType<typeof createServer>, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

async function quit(redis: Redis): Promise<void> {
  try {
    await redis.quit();
  } catch {
    redis.disconnect();
  }
}

/** Starts a local Upstash Redis REST endpoint (`/`, `/pipeline`, `/multi-exec`) backed by the Redis at `redisUrl`. */
export async function startUpstashLocal(options: UpstashLocalOptions): Promise<UpstashLocal> {
  if (options.token === '') throw new Error('startUpstashLocal: token must not be empty');
  const host = options.host ?? '127.0.0.1';
  const shared = createRedis(options.redisUrl, 'upstash-local');
  const transactions = createRedis(options.redisUrl, 'upstash-local-multi-exec');
  try {
    await Promise.all([shared.connect(), transactions.connect()]);
  } catch (err) {
    shared.disconnect();
    transactions.disconnect();
    throw new Error(`upstash-local: cannot connect to Redis at ${options.redisUrl}`, { cause: err });
  }

  let syncToken = 0;
  const stats = new CommandStats();
  const ctx: Context = { token: options.token, shared, transactions, stats, nextSyncToken: () => String(++syncToken) };
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    handle(req, res, ctx).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      sendJson(res, 500, { error: `ERR local Upstash endpoint failed to reach Redis: ${reason}` });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  let address: AddressInfo;
  try {
    address = await listen(server, options.port ?? 0, host);
  } catch (err) {
    await Promise.all([quit(shared), quit(transactions)]);
    throw err;
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets would hold the port (and the close callback) open; a restart must find it free.
      for (const socket of sockets) socket.destroy();
      await closed;
      await Promise.all([quit(shared), quit(transactions)]);
    })();
    return closing;
  };

  // A wildcard bind is reachable on loopback; hand out an address a client can actually dial.
  const dialable = address.address === '0.0.0.0' || address.address === '::' ? '127.0.0.1' : address.address;
  const urlHost = dialable.includes(':') ? `[${dialable}]` : dialable;
  return { url: `http://${urlHost}:${address.port}`, port: address.port, stats, close };
}
