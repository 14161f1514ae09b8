import type { Redis } from 'ioredis';
import type pg from 'pg';

/** The baseline's own key, so it never fights the edge's SET at `canary-platform-ids`. */
export const SEED_COHORT_KEY = 'bench:seed-canary-platform-ids';

/** What the seed design cost since the last reset. */
export interface SeedStoreCounts {
  redisCommands: number;
  /** Bytes of cohort JSON read from Redis. */
  redisBytes: number;
  dbQueries: number;
  /** Lookups still running (a run's abandoned requests keep the app busy after the load generator stops). */
  inFlight: number;
}

/**
 * The seed's `platformCanaryService.getCanaryPlatformIds`, faithfully: GET the JSON array on every call, JSON.parse it,
 * and on a miss read `platform_plan` and SET the array (no TTL, no fill lock). Counts every Redis command and query.
 */
export class SeedCohortStore {
  readonly counts: SeedStoreCounts = { redisCommands: 0, redisBytes: 0, dbQueries: 0, inFlight: 0 };

  constructor(
    private readonly redis: Redis,
    private readonly pool: pg.Pool,
  ) {}

  /** The canary cohort as the seed reads it. */
  async getCanaryPlatformIds(): Promise<string[]> {
    this.counts.inFlight++;
    try {
      return await this.#read();
    } finally {
      this.counts.inFlight--;
    }
  }

  async #read(): Promise<string[]> {
    this.counts.redisCommands++;
    const cached = await this.redis.get(SEED_COHORT_KEY);
    if (cached) {
      this.counts.redisBytes += cached.length;
      try {
        return JSON.parse(cached) as string[];
      } catch {
        // The seed's distributedStore.get treats unparsable JSON as a miss.
      }
    }
    this.counts.dbQueries++;
    const { rows } = await this.pool.query<{ platform_id: string }>('SELECT platform_id FROM platform_plan WHERE canary = true');
    const ids = rows.map((row) => row.platform_id);
    this.counts.redisCommands++;
    await this.redis.set(SEED_COHORT_KEY, JSON.stringify(ids));
    return ids;
  }

  /** Zeroes the counters (not `inFlight`, which is a level, not a count). */
  reset(): void {
    this.counts.redisCommands = 0;
    this.counts.redisBytes = 0;
    this.counts.dbQueries = 0;
  }
}
