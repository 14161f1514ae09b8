import net from 'node:net';
import { edgeBundle } from '../dev/edge/edge-bundle.js';
import { localStoreUrls } from '../tools/env/local-stores.js';

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Fails fast, naming the fix, when the services every integration test needs are not answering; then builds the edge
 * bundle once (`wrangler deploy --dry-run`), so no test pays for it.
 */
export default async function setup(): Promise<void> {
  const stores = localStoreUrls();
  const redis = new URL(stores.redisUrl);
  const pg = new URL(stores.postgresUrl);
  const problems: string[] = [];
  if (!(await probe(redis.hostname, Number(redis.port || 6379)))) {
    problems.push(`Redis is not answering at ${redis.host}. Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
  }
  if (!(await probe(pg.hostname, Number(pg.port || 5432)))) {
    problems.push(`PostgreSQL is not answering at ${pg.host}. Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  await edgeBundle();
}
