import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { forgetPlatformEvidence } from '../../core/health/health-window.js';
import { EVIDENCE_RETENTION_SECONDS, TRAFFIC_RETENTION_SECONDS, healthKey, signalKey, trafficKey } from '../../core/judge/evidence-keys.js';
import { NO_PLATFORM_SIGNAL, OTHER_PLATFORMS_SIGNAL, SignalBatch, recordSignals } from '../../core/judge/signal-batch.js';
import { decodeCounts } from '../../core/judge/signal-counts.js';
import type { ScriptRunner } from '../../core/membership/index.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// The recorder against real Redis: the script the edge and the workers send their batches with.

let redisDb: ReservedRedisDb;
let redis: Redis;
let runner: ScriptRunner;
const NOW = Date.UTC(2026, 11, 5, 12, 30, 15);
const MINUTE = Math.floor(NOW / 60_000);

beforeAll(async () => {
  redisDb = await reserveRedisDb();
  redis = new Redis(redisDb.url);
  runner = createIoredisScriptRunner(redis);
});
afterAll(async () => {
  await redis.quit();
  await redisDb.close();
});
beforeEach(async () => {
  await redis.flushdb();
});

const read = async (side: 'primary' | 'canary', platformId: string, family: 'requests' | 'jobs' = 'requests') =>
  decodeCounts(await redis.hget(signalKey(MINUTE, family, side), platformId));

describe('recording signals', () => {
  it('adds batches up per platform-minute, in the hash of its family and side, with the minute totals beside them', async () => {
    for (let round = 0; round < 2; round++) {
      const batch = new SignalBatch();
      batch.record('requests', 'canary', 'plat_a', true, 30, NOW);
      batch.record('requests', 'canary', 'plat_a', false, 300, NOW);
      batch.record('requests', 'primary', 'plat_b', false, 8, NOW);
      batch.record('jobs', 'canary', 'plat_a', true, 2_000, NOW);
      await recordSignals(runner, batch.take());
    }
    expect(await read('canary', 'plat_a')).toMatchObject({ n: 4, bad: 2 });
    expect((await read('canary', 'plat_a'))?.hist.slice(3, 9)).toEqual([2, 0, 0, 2, 0, 0]);
    expect(await read('primary', 'plat_b')).toMatchObject({ n: 2, bad: 0 });
    expect(await read('canary', 'plat_a', 'jobs')).toMatchObject({ n: 2, bad: 2 });
    expect(await redis.hgetall(healthKey(MINUTE))).toEqual({ 'canary:requests': '4', 'canary:errors': '2', 'primary:requests': '2', 'canary:jobs': '2', 'canary:failed': '2' });
    // Requests (not jobs) also add up per platform and UTC day: what traffic steps of release plans are sized by.
    expect(await redis.hgetall(trafficKey(Math.floor(MINUTE / 1440)))).toEqual({ plat_a: '4', plat_b: '2' });
    expect(await redis.ttl(trafficKey(Math.floor(MINUTE / 1440)))).toBeGreaterThan(TRAFFIC_RETENTION_SECONDS - 5);
    const ttl = await redis.ttl(signalKey(MINUTE, 'requests', 'canary'));
    expect(ttl).toBeGreaterThan(EVIDENCE_RETENTION_SECONDS - 5);
    expect(ttl).toBeLessThanOrEqual(EVIDENCE_RETENTION_SECONDS);
  });

  it('replaces a field that is not packed counts instead of adding to it', async () => {
    await redis.hset(signalKey(MINUTE, 'requests', 'canary'), 'plat_a', 'not-counts');
    const batch = new SignalBatch();
    batch.record('requests', 'canary', 'plat_a', false, 30, NOW);
    await recordSignals(runner, batch.take());
    expect(await read('canary', 'plat_a')).toMatchObject({ n: 1, bad: 0 });
  });

  it('never makes a field of an id outside the platform-id rule, and counts requests without a platform apart', async () => {
    const batch = new SignalBatch();
    batch.record('requests', 'canary', 'a b', true, 30, NOW);
    batch.record('requests', 'canary', 'x'.repeat(129), true, 30, NOW);
    batch.record('requests', 'canary', null, false, 30, NOW);
    await recordSignals(runner, batch.take());
    expect(Object.keys(await redis.hgetall(signalKey(MINUTE, 'requests', 'canary'))).sort()).toEqual([NO_PLATFORM_SIGNAL, OTHER_PLATFORMS_SIGNAL].sort());
    expect(await read('canary', OTHER_PLATFORMS_SIGNAL)).toMatchObject({ n: 2, bad: 2 });
  });

  it('keeps at most 10,000 platforms apart per batch and cell, the rest counted together', async () => {
    const batch = new SignalBatch();
    for (let i = 0; i < 10_005; i++) batch.record('requests', 'primary', `p${i}`, false, 30, NOW);
    await recordSignals(runner, batch.take());
    expect(await redis.hlen(signalKey(MINUTE, 'requests', 'primary'))).toBe(10_001);
    expect(await read('primary', OTHER_PLATFORMS_SIGNAL)).toMatchObject({ n: 5 });
  });

  it('forgets one platform\'s canary evidence and nothing else', async () => {
    const batch = new SignalBatch();
    for (const id of ['plat_a', 'plat_b']) {
      batch.record('requests', 'canary', id, true, 30, NOW);
      batch.record('jobs', 'canary', id, true, 30, NOW - 3_600_000);
      batch.record('requests', 'primary', id, false, 30, NOW);
    }
    await recordSignals(runner, batch.take());
    await forgetPlatformEvidence(runner, 'plat_a', NOW);
    expect(await read('canary', 'plat_a')).toBeNull();
    expect(await redis.hget(signalKey(MINUTE - 60, 'jobs', 'canary'), 'plat_a')).toBeNull();
    expect(await read('canary', 'plat_b')).toMatchObject({ n: 1 });
    expect(await redis.hget(signalKey(MINUTE - 60, 'jobs', 'canary'), 'plat_b')).not.toBeNull();
    expect(await read('primary', 'plat_a')).toMatchObject({ n: 1 });
  });
});
