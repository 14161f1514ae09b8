import { Redis } from 'ioredis';
import { evidenceKeys, trafficKey } from '../../core/judge/evidence-keys.js';
import { writeJudgeRecord } from '../../core/judge/judge-record.js';
import { JUDGE_DEFAULTS } from '../../core/judge/judge-settings.js';
import type { JudgeSettings } from '../../core/judge/judge-settings.js';
import { SignalBatch, recordSignals } from '../../core/judge/signal-batch.js';
import { CanaryControl, MembershipStore } from '../../core/membership/index.js';
import { runJudgeTick } from '../../origin/judge/judge-tick.js';
import { readSignalWindow } from '../../origin/judge/signal-window.js';
import type { Logger } from '../../origin/logger.js';
import { createIoredisScriptRunner } from '../../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../../origin/membership/pg-sql-client.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import { prng } from '../soak/traffic.js';
import { median } from '../support/stats.js';

/** What the judge's evidence costs at scale: Redis memory per platform-minute, and one tick's time on the app. */
export interface JudgeCost {
  /** Active platforms in the window (one minute each): `canary` of them on the canary. */
  platforms: number;
  canaryPlatforms: number;
  observations: number;
  /** Platform-minutes the tick's window read held (all of them, or the write lost some). */
  fieldsRead: number;
  /** MEMORY USAGE (exact) of the minute's keys, per active platform-minute. */
  bytesPerPlatformMinute: number;
  totalBytes: number;
  /** MEMORY USAGE of the day's traffic hash (requests per platform, kept 2 days for traffic steps), per platform. */
  trafficBytesPerPlatform: number;
  /** Whole ticks (runJudgeTick: Postgres state, the window read, the judge, the record), ms. */
  tickMs: number[];
  /** Medians, ms: the window read (pipelined HGETALL, parsed) and the rest of the tick (Postgres state, the judge, the record). */
  readMs: number;
  restMs: number;
  verdict: string;
  action: string;
}

/** Most platforms the edge's batch keeps apart per minute, family and side (signal-batch.ts): writes go in slices. */
const SLICE = 10_000;

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };

/** A lognormal duration (median `medianMs`, shape sigma) from a seeded uniform source. */
function lognormal(random: () => number, medianMs: number, sigma: number): number {
  const u = Math.max(1e-12, random());
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  return medianMs * Math.exp(sigma * z);
}

/**
 * Writes one minute of requests for `platforms` active platforms (a fifth on the canary, 1–40 requests each, 0.5%
 * errors, lognormal latency around 80 ms on both sides) through the edge's own recorder and script, on a Redis database
 * and a Postgres database of their own; measures the minute's keys (MEMORY USAGE, exact) and times `ticks` judge ticks
 * over it the way the app runs them. Healthy arms: the tick passes and does nothing.
 */
export async function measureJudgeCost(options: { platforms: number; ticks: number; seed?: number }): Promise<JudgeCost> {
  const [redisDb, db] = await Promise.all([reserveRedisDb(), createTestDatabase()]);
  const redis = new Redis(redisDb.url, { maxRetriesPerRequest: 1 });
  const pool = db.pool({ max: 2 });
  try {
    const runner = createIoredisScriptRunner(redis);
    const random = prng(options.seed ?? 17);
    const nowMs = Date.now();
    const canaryPlatforms = Math.round(options.platforms / 5);
    let observations = 0;
    for (let start = 0; start < options.platforms; start += SLICE) {
      const batch = new SignalBatch();
      for (let i = start; i < Math.min(options.platforms, start + SLICE); i++) {
        const side = i < canaryPlatforms ? 'canary' : 'primary';
        const platformId = `plat_${String(i).padStart(16, '0')}`;
        const n = 1 + Math.floor(random() * 40);
        for (let k = 0; k < n; k++) batch.record('requests', side, platformId, random() < 0.005, lognormal(random, 80, 0.5), nowMs);
        observations += n;
      }
      await recordSignals(runner, batch.take());
    }
    let totalBytes = 0;
    for (const key of evidenceKeys(nowMs)) {
      const bytes = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
      totalBytes += bytes ?? 0;
    }
    const trafficBytes = ((await redis.call('MEMORY', 'USAGE', trafficKey(Math.floor(nowMs / 86_400_000)), 'SAMPLES', '0')) as number | null) ?? 0;
    const sql = createPgSqlClient(pool);
    const control = new CanaryControl({ sql, membership: new MembershipStore({ redis: runner, sql }) });
    const settings: JudgeSettings = { enabled: true, intervalSeconds: 30, windowSeconds: 300, ...JUDGE_DEFAULTS };
    const tickMs: number[] = [];
    const readMs: number[] = [];
    const restMs: number[] = [];
    let last = { verdict: '', action: '' };
    let fieldsRead = 0;
    for (let i = 0; i < options.ticks; i++) {
      const started = performance.now();
      const record = await runJudgeTick({
        readWindow: async (at, windowSeconds) => {
          const readStarted = performance.now();
          const window = await readSignalWindow(redis, at, windowSeconds);
          readMs.push(performance.now() - readStarted);
          fieldsRead = window.fields;
          return window;
        },
        saveRecord: (r) => writeJudgeRecord(runner, r),
        control,
        settings,
        logger: quiet,
      });
      const total = performance.now() - started;
      tickMs.push(total);
      last = { verdict: record.verdict, action: record.action };
      restMs.push(total - (readMs.at(-1) ?? 0));
    }
    return {
      platforms: options.platforms,
      canaryPlatforms,
      observations,
      fieldsRead,
      bytesPerPlatformMinute: totalBytes / options.platforms,
      totalBytes,
      trafficBytesPerPlatform: trafficBytes / options.platforms,
      tickMs,
      readMs: median(readMs),
      restMs: median(restMs),
      ...last,
    };
  } finally {
    await redis.quit();
    await db.close();
    await redisDb.close();
  }
}
