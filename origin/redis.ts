import { Redis } from 'ioredis';
import type { Logger } from './logger.js';

/**
 * An ioredis client with an error listener. `maxRetriesPerRequest: null` is what BullMQ workers require and keeps
 * commands queued across a Redis restart instead of failing them mid-job.
 */
export function createRedis(url: string, name: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: null, connectionName: name });
  redis.on('error', (error) => logger.error('redis error', { connection: name, error }));
  return redis;
}

/**
 * An ioredis client for the membership cache: a command fails fast when Redis is unreachable or slow, so the
 * membership core falls back to Postgres (the BullMQ clients above queue commands forever by design).
 */
export function createCacheRedis(url: string, name: string, logger: Logger): Redis {
  const redis = new Redis(url, { maxRetriesPerRequest: 1, commandTimeout: 1_000, enableOfflineQueue: false, connectionName: name });
  redis.on('error', (error) => logger.error('redis error', { connection: name, error }));
  return redis;
}

/** Postgres pool options that turn an unreachable or hung server into errors instead of waits without end. */
export const PG_TIMEOUTS = { connectionTimeoutMillis: 5_000, query_timeout: 30_000 } as const;

/** Quits a client, falling back to a hard disconnect if Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timeout')), 2_000))]);
  } catch {
    redis.disconnect();
  }
}
