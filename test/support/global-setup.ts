import net from 'node:net';

function probe(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(2_000);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('timeout', () => { socket.destroy(); resolve(false); });
    socket.once('error', () => resolve(false));
  });
}

/** Fails fast, naming the fix, when the services every integration test needs are not answering. */
export default async function setup(): Promise<void> {
  const redis = new URL(process.env.AP_REDIS_URL ?? 'redis://127.0.0.1:6379');
  const pg = new URL(process.env.AP_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  const problems: string[] = [];
  if (!(await probe(redis.hostname, Number(redis.port || 6379)))) {
    problems.push(`Redis is not answering at ${redis.host}. Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no`);
  }
  if (!(await probe(pg.hostname, Number(pg.port || 5432)))) {
    problems.push(`PostgreSQL is not answering at ${pg.host}. Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
