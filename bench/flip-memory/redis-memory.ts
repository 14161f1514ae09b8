import type { Redis } from 'ioredis';

/** Redis server's `used_memory` over a run (server-wide: other databases and clients count too). */
export interface RedisMemoryTrace {
  beforeMiB: number | null;
  peakMiB: number | null;
}

/** A running poller; `stop()` waits for the poll in flight and returns the trace. */
export interface RedisMemoryPoller {
  /** The peak so far (null until a read succeeded). */
  peakMiB(): number | null;
  stop(): Promise<RedisMemoryTrace>;
}

/** `used_memory` in MiB, or null when INFO fails or lacks it. */
export async function redisUsedMiB(redis: Redis): Promise<number | null> {
  try {
    const match = /^used_memory:(\d+)\r?$/m.exec(await redis.info('memory'));
    return match?.[1] === undefined ? null : Number(match[1]) / 1024 / 1024;
  } catch {
    return null;
  }
}

/**
 * Polls INFO memory every `intervalMs` on its own connection (one the bench's pipelines do not queue behind), so the
 * peak is that of the seeding and the move, not a value read once at the end.
 */
export async function startRedisMemoryPoller(redis: Redis, intervalMs = 250): Promise<RedisMemoryPoller> {
  const before = await redisUsedMiB(redis);
  let peak = before;
  let running = true;
  const loop = (async () => {
    while (running) {
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
      const now = await redisUsedMiB(redis);
      if (now !== null && (peak === null || now > peak)) peak = now;
    }
  })();
  return {
    peakMiB: () => peak,
    async stop() {
      running = false;
      await loop;
      return { beforeMiB: before, peakMiB: peak };
    },
  };
}
