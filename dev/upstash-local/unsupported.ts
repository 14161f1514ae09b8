import type { RedisCommand } from './parse-body.js';

// Commands that wait for data would freeze the one shared connection every other HTTP request is queued on.
const BLOCKING = new Set([
  'BLPOP', 'BRPOP', 'BRPOPLPUSH', 'BLMOVE', 'BLMPOP', 'BZPOPMIN', 'BZPOPMAX', 'BZMPOP', 'WAIT', 'WAITAOF',
]);

// Pub/sub and MONITOR switch the connection into a push mode that plain request/response cannot serve.
const PUSH_MODE = new Set(['SUBSCRIBE', 'PSUBSCRIBE', 'SSUBSCRIBE', 'UNSUBSCRIBE', 'PUNSUBSCRIBE', 'SUNSUBSCRIBE', 'MONITOR']);

// Commands that change the shared connection's state for every later request (database, transaction, reply mode).
const CONNECTION_STATE = new Map<string, string>([
  ['MULTI', 'send the transaction\'s commands to POST /multi-exec instead'],
  ['EXEC', 'send the transaction\'s commands to POST /multi-exec instead'],
  ['DISCARD', 'send the transaction\'s commands to POST /multi-exec instead'],
  ['WATCH', 'optimistic locking needs a dedicated connection, which a REST request does not have'],
  ['UNWATCH', 'optimistic locking needs a dedicated connection, which a REST request does not have'],
  ['SELECT', 'the database is fixed by the endpoint\'s Redis URL, as an Upstash database is'],
  ['SWAPDB', 'the database is fixed by the endpoint\'s Redis URL, as an Upstash database is'],
  ['QUIT', 'REST requests have no connection to close'],
  ['RESET', 'REST requests have no connection to reset'],
  ['HELLO', 'the endpoint speaks RESP2 to Redis, as Upstash\'s REST API does'],
  ['AUTH', 'authenticate with the REST token instead'],
  ['DEBUG', 'DEBUG SLEEP and friends would stall the shared connection'],
]);

// CLIENT subcommands that only read; the others (REPLY OFF, PAUSE, KILL, TRACKING, ...) would alter or cut the
// shared connection.
const CLIENT_READ_ONLY = new Set(['ID', 'INFO', 'LIST', 'GETNAME', 'GETREDIR', 'TRACKINGINFO', 'HELP']);

function blocksOnStreams(command: RedisCommand): boolean {
  if (command.name !== 'XREAD' && command.name !== 'XREADGROUP') return false;
  for (const arg of command.args) {
    const upper = arg.toUpperCase();
    if (upper === 'STREAMS') return false;
    if (upper === 'BLOCK') return true;
  }
  return false;
}

/** Returns why this endpoint refuses the command (as a Redis-style `ERR` message), or undefined if it runs it. */
export function unsupportedReason(command: RedisCommand): string | undefined {
  const { name } = command;
  const prefix = `ERR ${name} is not supported by the local Upstash endpoint`;
  if (BLOCKING.has(name) || blocksOnStreams(command)) {
    return `${prefix}: blocking commands would stall the shared Redis connection`;
  }
  if (PUSH_MODE.has(name)) return `${prefix}: pub/sub and MONITOR streams are not served over REST here`;
  const hint = CONNECTION_STATE.get(name);
  if (hint !== undefined) return `${prefix}: ${hint}`;
  if (name === 'CLIENT') {
    const sub = (command.args[0] ?? '').toUpperCase();
    if (!CLIENT_READ_ONLY.has(sub)) return `${prefix}: CLIENT ${sub} would alter the shared Redis connection`;
  }
  return undefined;
}
