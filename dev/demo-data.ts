import { sign } from 'hono/jwt';
import { Redis } from 'ioredis';
import { MembershipStore } from '../core/membership/index.js';
import { createIoredisScriptRunner } from '../origin/membership/ioredis-script-runner.js';
import { createPgSqlClient } from '../origin/membership/pg-sql-client.js';
import { createPgPool, endPool } from '../origin/pg-pool.js';

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
 * Seeds two demo platforms (one in the canary cohort) with a project and a flow each, idempotently, and resets their
 * canary flags through the membership store so caches and queued jobs follow.
 */
export async function seedDemoData(options: { postgresUrl: string; redisUrl: string; jwtSecret: string }): Promise<DemoPlatform[]> {
  // Failures surface through the awaited queries below; an idle client's error needs no more than not crashing.
  const pool = createPgPool({ connectionString: options.postgresUrl, max: 2 }, () => undefined);
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined); // failures surface through the awaited calls below
  try {
    const store = new MembershipStore({ redis: createIoredisScriptRunner(redis), sql: createPgSqlClient(pool) });
    const now = Math.floor(Date.now() / 1000);
    const demos: DemoPlatform[] = [];
    for (const demo of DEMOS) {
      const projectId = `${demo.platformId}-project`;
      const flowId = `${demo.platformId}-flow`;
      await pool.query('INSERT INTO platform (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [demo.platformId, `Demo ${demo.platformId}`]);
      await pool.query('INSERT INTO project (id, platform_id) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING', [projectId, demo.platformId]);
      await pool.query(
        'INSERT INTO flow (id, project_id, definition) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition',
        [flowId, projectId, JSON.stringify(DEFINITION)],
      );
      const result = await store.setCanary(demo.platformId, demo.canary);
      if (!result.invalidated) throw new Error('could not invalidate the canary cache in Redis');
      const jwt = await sign(
        { id: `${demo.platformId}-user`, type: 'USER', projectId, platform: { id: demo.platformId }, iat: now, exp: now + 86_400 },
        options.jwtSecret,
        'HS256',
      );
      demos.push({ platformId: demo.platformId, flowId, canary: demo.canary, jwt });
    }
    return demos;
  } finally {
    await endPool(pool);
    await redis.quit().catch(() => undefined);
  }
}
