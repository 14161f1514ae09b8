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

/** Quits a client, falling back to a hard disconnect if Redis does not answer. */
export async function closeRedis(redis: Redis): Promise<void> {
  if (redis.status === 'end') return;
  try {
    await Promise.race([redis.quit(), new Promise((_, reject) => setTimeout(() => reject(new Error('quit timeout')), 2_000))]);
  } catch {
    redis.disconnect();
  }
}
