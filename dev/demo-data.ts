import { Redis } from 'ioredis';
import { CanaryControl, MembershipStore } from '../core/membership/index.js';
import { createIoredisScriptRunner } from '../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../origin/membership/pg-sql-client.js';
import { createPgPool, endPool } from '../origin/pg-pool.js';
import { seedFlow, seedPlatform, signPrincipalJwt } from './seed/seed-data.js';

/** A demo platform of the local topology. */
export interface DemoPlatform {
  platformId: string;
  flowId: string;
  canary: boolean;
  /** A USER principal JWT for this platform, valid for 24 h. */
  jwt: string;
}

const DEFINITION = {
  steps: [
    { type: 'set', path: 'handledBy', value: 'demo flow' },
    { type: 'template', path: 'greeting', template: 'hello {{name}}' },
    { type: 'uppercase', path: 'greeting' },
  ],
};

const DEMOS = [
  { platformId: 'demo-primary', canary: false },
  { platformId: 'demo-canary', canary: true },
] as const;

/**
 * Seeds two demo platforms (one pinned into the canary cohort) with a project and a flow each, idempotently, and resets
 * their choices through the operator plane (audited as `npm start`) so caches and queued jobs follow.
 */
export async function seedDemoData(options: { postgresUrl: string; redisUrl: string; jwtSecret: string }): Promise<DemoPlatform[]> {
  // Failures surface through the awaited queries below; an idle client's error needs no more than not crashing.
  const pool = createPgPool({ connectionString: options.postgresUrl, max: 2 }, () => undefined);
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined); // failures surface through the awaited calls below
  try {
    const sql = createPgSqlClient(pool);
    const control = new CanaryControl({ sql, membership: new MembershipStore({ redis: createIoredisScriptRunner(redis), sql }) });
    const demos: DemoPlatform[] = [];
    for (const demo of DEMOS) {
      await seedPlatform(pool, { id: demo.platformId, name: `Demo ${demo.platformId}` });
      const { flowId } = await seedFlow(pool, demo.platformId, {
        id: `${demo.platformId}-flow`,
        projectId: `${demo.platformId}-project`,
        definition: DEFINITION,
      });
      const result = await control.setChoice(demo.platformId, demo.canary, { actor: 'npm start', reason: 'demo data' });
      if (result === null || !result.invalidated) throw new Error('could not invalidate the canary cache in Redis');
      const jwt = await signPrincipalJwt(options.jwtSecret, demo.platformId, { id: `${demo.platformId}-user`, expiresInSeconds: 86_400 });
      demos.push({ platformId: demo.platformId, flowId, canary: demo.canary, jwt });
    }
    return demos;
  } finally {
    await endPool(pool);
    await redis.quit().catch(() => redis.disconnect());
  }
}
