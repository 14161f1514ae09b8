// Child process: the seed's in-app design (the primary app with the canary preHandler), in its own process like the
// real primary app.
import { Redis } from 'ioredis';
import { createPgPool, endPool } from '../../origin/pg-pool.js';
import { childConfig, serveParent } from '../support/child-rpc.js';
import { buildSeedApp } from './seed-app.js';
import type { SeedAppCounts } from './seed-app.js';
import { SeedCohortStore } from './seed-cohort-store.js';
import type { SeedStoreCounts } from './seed-cohort-store.js';

export interface SeedAppChildConfig {
  redisUrl: string;
  databaseUrl: string;
  canaryUrl: string;
  jwtSecret: string;
}

export interface SeedAppInfo {
  url: string;
}

export type SeedCounts = SeedAppCounts & SeedStoreCounts;

const config = childConfig<SeedAppChildConfig>();
const redis = new Redis(config.redisUrl, { maxRetriesPerRequest: 1 });
redis.on('error', () => undefined);
const pool = createPgPool({ connectionString: config.databaseUrl, max: 10 }, () => undefined);
const store = new SeedCohortStore(redis, pool);
const { app, counts } = await buildSeedApp({ canaryUrl: config.canaryUrl, jwtSecret: config.jwtSecret, store });
const url = await app.listen({ host: '127.0.0.1', port: 0 });

serveParent(
  { url } satisfies SeedAppInfo,
  {
    counts: (): SeedCounts => ({ ...counts, ...store.counts }),
    reset: () => {
      counts.received = 0;
      counts.answered = 0;
      counts.proxied = 0;
      counts.proxyErrors = 0;
      store.reset();
      return true;
    },
  },
  async () => {
    await app.close();
    await Promise.allSettled([redis.quit(), endPool(pool)]);
  },
);
