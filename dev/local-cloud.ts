import { randomBytes } from 'node:crypto';
import { startNeonLocal } from './neon-local/server.js';
import { startUpstashLocal } from './upstash-local/server.js';

// `npm run local-cloud`: only the local Upstash-REST and Neon endpoints, for running the Worker yourself
// (e.g. `npx wrangler dev`): it prints the .dev.vars lines that point the Worker at them.

async function main(): Promise<void> {
  const redisUrl = process.env.AP_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const databaseUrl = process.env.AP_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/canary_edge';
  const token = process.env.UPSTASH_REDIS_REST_TOKEN ?? randomBytes(16).toString('hex');
  // LOCAL_CLOUD_HOST=0.0.0.0 lets other containers reach the endpoints (docker-compose); loopback by default.
  const host = process.env.LOCAL_CLOUD_HOST ?? '127.0.0.1';
  const upstash = await startUpstashLocal({ redisUrl, token, host, port: Number(process.env.UPSTASH_PORT ?? 8079) });
  const neon = await startNeonLocal({ host, port: Number(process.env.NEON_PORT ?? 8078) });
  process.stdout.write(
    [
      `Upstash REST (local) ${upstash.url} -> ${redisUrl}`,
      `Neon HTTP (local)    ${neon.fetchEndpoint} -> Postgres named by each request's connection string`,
      '',
      'Put these in .dev.vars (with AP_API_KEY and AP_JWT_SECRET) and run `npx wrangler dev`:',
      `UPSTASH_REDIS_REST_URL=${upstash.url}`,
      `UPSTASH_REDIS_REST_TOKEN=${token}`,
      `DATABASE_URL=${databaseUrl}`,
      `NEON_HTTP_ENDPOINT=${neon.fetchEndpoint}`,
      '',
      'Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    Promise.all([upstash.close(), neon.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`local-cloud failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
