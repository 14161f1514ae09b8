import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseConnectionString } from './connection-string.js';
import { sendJson } from './json-response.js';
import { NeonHttpError, messageOf } from './neon-error.js';
import { parsePayload } from './payload.js';
import type { PoolRegistry } from './pools.js';
import { runBatch, runSingle } from './run-sql.js';
import type { SqlOptions } from './run-sql.js';

/** Live counters the handler bumps (the public `NeonLocalStats`). */
export interface SqlCounters {
  requests: number;
  queries: number;
}

/** What `handleSqlRequest` needs from the server. */
export interface SqlHandlerOptions {
  pools: PoolRegistry;
  counters: SqlCounters;
  maxRequestBytes: number;
}

/** Header value -> SQL, for the values the driver's `isolationLevel` option (and Neon's proxy) accept. */
const ISOLATION_LEVELS: ReadonlyMap<string, string> = new Map([
  ['ReadUncommitted', 'READ UNCOMMITTED'],
  ['ReadCommitted', 'READ COMMITTED'],
  ['RepeatableRead', 'REPEATABLE READ'],
  ['Serializable', 'SERIALIZABLE'],
]);

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** Neon treats every flag header as false unless it is exactly "true". */
function parseOptions(req: IncomingMessage): SqlOptions {
  const level = header(req, 'neon-batch-isolation-level');
  const isolationLevel = level === undefined ? undefined : ISOLATION_LEVELS.get(level);
  if (level !== undefined && isolationLevel === undefined) throw new NeonHttpError(400, 'invalid isolation level');
  return {
    rawOutput: header(req, 'neon-raw-text-output') === 'true',
    arrayMode: header(req, 'neon-array-mode') === 'true',
    isolationLevel,
    readOnly: header(req, 'neon-batch-read-only') === 'true',
    deferrable: header(req, 'neon-batch-deferrable') === 'true',
  };
}

function tooLarge(limit: number): NeonHttpError {
  return new NeonHttpError(413, `request is too large (max is ${limit} bytes)`);
}

/** Reads the whole body, refusing (without reading on) once it passes `limit`. */
function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      outcome();
    };
    const onData = (chunk: Buffer | string): void => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      size += bytes.length;
      if (size > limit) {
        req.pause();
        settle(() => reject(tooLarge(limit)));
      } else {
        chunks.push(bytes);
      }
    };
    const onEnd = (): void => settle(() => resolve(Buffer.concat(chunks).toString('utf8')));
    const onError = (error: Error): void =>
      settle(() => reject(new NeonHttpError(400, `could not read the HTTP request body: ${messageOf(error)}`)));
    const onClose = (): void => onError(new Error('connection closed before the body was complete'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The `Neon-Batch-*` headers Neon echoes on a successful batch. */
function batchHeaders(req: IncomingMessage, options: SqlOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.readOnly) headers['Neon-Batch-Read-Only'] = 'true';
  if (options.deferrable) headers['Neon-Batch-Deferrable'] = 'true';
  const level = header(req, 'neon-batch-isolation-level');
  if (options.isolationLevel !== undefined && level !== undefined) headers['Neon-Batch-Isolation-Level'] = level;
  return headers;
}

/** Serves one `POST /sql` as Neon's proxy does: run the statement or the batch, answer Neon's JSON. */
export async function handleSqlRequest(
  req: IncomingMessage,
  res: ServerResponse,
  handler: SqlHandlerOptions,
): Promise<void> {
  handler.counters.requests += 1;
  const gone = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) gone.abort();
  });
  try {
    const target = parseConnectionString(header(req, 'neon-connection-string'));
    const options = parseOptions(req);
    const payload = parsePayload(await readBody(req, handler.maxRequestBytes));
    const context = {
      pool: handler.pools.pool(target),
      target,
      options,
      signal: gone.signal,
      countStatement: () => {
        handler.counters.queries += 1;
      },
    };
    if (payload.kind === 'single') {
      sendJson(res, 200, await runSingle(payload.statement, context));
    } else {
      sendJson(res, 200, await runBatch(payload.statements, context), batchHeaders(req, options));
    }
  } catch (error) {
    const failure = error instanceof NeonHttpError ? error : new NeonHttpError(500, messageOf(error));
    // After a 413 the rest of the body is never read, so the connection cannot be reused.
    sendJson(res, failure.status, failure.body(), failure.status === 413 ? { Connection: 'close' } : {});
  }
}
