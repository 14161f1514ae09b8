import type { Redis } from 'ioredis';
import type { RedisCommand } from './parse-body.js';
import { unsupportedReason } from './unsupported.js';

/** What one command produced: Redis's raw reply, or the message of the error Redis (or this endpoint) answered. */
export type CommandOutcome = { result: unknown } | { error: string };

/** A transaction either ran (one outcome per command) or was discarded as a whole. */
export type TransactionOutcome = { results: CommandOutcome[] } | { aborted: string };

/** A Redis error reply, as opposed to the connection failing; only the former is the client's to see per command. */
function isReplyError(err: unknown): err is Error {
  return err instanceof Error && err.name === 'ReplyError';
}

// Reply errors become outcomes; anything else (connection closed, retries exhausted) rejects, so the request as a
// whole fails with a 500 instead of passing an infrastructure fault off as a command's answer.
function settle(reply: Promise<unknown>): Promise<CommandOutcome> {
  return reply.then(
    (result) => ({ result }),
    (err: unknown) => {
      if (isReplyError(err)) return { error: err.message };
      throw err;
    },
  );
}

function send(redis: Redis, command: RedisCommand): Promise<unknown> {
  // callBuffer keeps every bulk/simple string as raw bytes, so binary values survive until they are encoded.
  return redis.callBuffer(command.name, ...command.args);
}

/** Runs one command on the shared connection. */
export function runCommand(redis: Redis, command: RedisCommand): Promise<CommandOutcome> {
  const refused = unsupportedReason(command);
  if (refused !== undefined) return Promise.resolve({ error: refused });
  return settle(send(redis, command));
}

/**
 * Runs a pipeline: all commands are written back to back on the shared connection and answered in order; like
 * Upstash's, it is not atomic, and one failing command does not stop the others.
 */
export function runPipeline(redis: Redis, commands: readonly RedisCommand[]): Promise<CommandOutcome[]> {
  return Promise.all(commands.map((command) => runCommand(redis, command)));
}

/**
 * Runs MULTI, the commands and EXEC on a connection reserved for transactions. ioredis writes the calls of one
 * synchronous burst contiguously, so two transactions never interleave on it, and no pipeline or single command
 * (they use the shared connection) can enter a transaction's queue.
 */
export async function runTransaction(redis: Redis, commands: readonly RedisCommand[]): Promise<TransactionOutcome> {
  for (const [index, command] of commands.entries()) {
    const refused = unsupportedReason(command);
    // Refused before anything is sent, so nothing of the transaction runs, as with a Redis queueing error.
    if (refused !== undefined) return { aborted: `EXECABORT Transaction discarded: command ${index + 1}: ${refused}` };
  }
  const multi = settle(redis.callBuffer('MULTI'));
  const queued = commands.map((command) => settle(send(redis, command)));
  const exec = settle(redis.callBuffer('EXEC'));
  const [multiOutcome, queuedOutcomes, execOutcome] = await Promise.all([multi, Promise.all(queued), exec]);

  if ('error' in multiOutcome) return { aborted: multiOutcome.error };
  if ('error' in execOutcome) {
    // Redis's EXECABORT alone does not say which command was rejected at queueing time; name the first one.
    const firstIndex = queuedOutcomes.findIndex((outcome) => 'error' in outcome);
    const first = queuedOutcomes[firstIndex];
    const cause = first !== undefined && 'error' in first
      ? ` First rejected: command ${firstIndex + 1} [ ${commands[firstIndex]?.name ?? '?'} ]: ${first.error}`
      : '';
    return { aborted: `${execOutcome.error}${cause}` };
  }
  const replies = execOutcome.result;
  if (!Array.isArray(replies)) return { aborted: 'EXECABORT Transaction aborted' };
  return {
    results: replies.map((reply: unknown): CommandOutcome => (isReplyError(reply) ? { error: reply.message } : { result: reply })),
  };
}
