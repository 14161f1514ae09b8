import { randomBytes } from 'node:crypto';
import { localStoreUrls } from '../tools/env/local-stores.js';
import { startLocalCloud } from './local-cloud/start-local-cloud.js';

// `npm run local-cloud`: only the local Upstash-REST and Neon endpoints (the local cloud without edge or origins), for
// running the Worker yourself (e.g. `npx wrangler dev`): it prints the .dev.vars lines that point the Worker at them.

async function main(): Promise<void> {
  const stores = localStoreUrls();
  const token = process.env.UPSTASH_REDIS_REST_TOKEN || randomBytes(16).toString('hex');
  // LOCAL_CLOUD_HOST=0.0.0.0 lets other containers reach the endpoints (docker-compose); loopback by default.
  const host = process.env.LOCAL_CLOUD_HOST || '127.0.0.1';
  const cloud = await startLocalCloud({
    stores,
    secrets: { apiKey: '', jwtSecret: '', workerSecret: '' },
    edge: false,
    upstash: { host, token, port: Number(process.env.UPSTASH_PORT || 8079) },
    neon: { host, port: Number(process.env.NEON_PORT || 8078) },
  });
  process.stdout.write(
    [
      `Upstash REST (local) ${cloud.upstashUrl} -> ${stores.redisUrl}`,
      `Neon HTTP (local)    ${cloud.neon.current.fetchEndpoint} -> Postgres named by each request's connection string`,
      '',
      'Put these in .dev.vars (with AP_API_KEY and AP_JWT_SECRET) and run `npx wrangler dev`:',
      `UPSTASH_REDIS_REST_URL=${cloud.upstashUrl}`,
      `UPSTASH_REDIS_REST_TOKEN=${token}`,
      `DATABASE_URL=${stores.postgresUrl}`,
      `NEON_HTTP_ENDPOINT=${cloud.neon.current.fetchEndpoint}`,
      '',
      'Ctrl-C stops both.',
      '',
    ].join('\n'),
  );
  const stop = (): void => {
    cloud.close().then(
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
