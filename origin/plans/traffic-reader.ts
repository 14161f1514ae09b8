import type { Redis } from 'ioredis';
import { trafficKey } from '../../core/judge/evidence-keys.js';
import { trafficWindow } from '../../core/plans/traffic-share.js';
import type { TrafficWindow } from '../../core/plans/traffic-share.js';

function counts(hash: Record<string, string>): Map<string, number> {
  const map = new Map<string, number>();
  for (const [id, value] of Object.entries(hash)) {
    const n = Number(value);
    if (Number.isFinite(n) && n > 0) map.set(id, n);
  }
  return map;
}

/** The last 24 hours of requests per platform: today's and yesterday's traffic hashes (one pipelined round trip). */
export async function readTraffic(redis: Redis, nowMs: number): Promise<TrafficWindow> {
  const today = Math.floor(nowMs / 86_400_000);
  const [current, previous] = await Promise.all([redis.hgetall(trafficKey(today)), redis.hgetall(trafficKey(today - 1))]);
  return trafficWindow(counts(current), counts(previous), nowMs);
}
