import { renderBanner } from './banner.js';
import { startTopology } from './local-topology.js';
import { loadStartConfig } from './start-config.js';

// `npm start`: the whole local topology in one command; Ctrl-C stops it.

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function hint(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  if (/ECONNREFUSED.*6379|Redis/i.test(text)) {
    return `${text}\n  Is Redis running? Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no (or set AP_REDIS_URL)`;
  }
  if (/ECONNREFUSED.*5432|postgres/i.test(text)) {
    return `${text}\n  Is PostgreSQL running? Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start (or set AP_POSTGRES_URL)`;
  }
  if (/EADDRINUSE/.test(text)) {
    return `${text}\n  A port is taken. Choose others with EDGE_PORT, PRIMARY_PORT, CANARY_PORT, UPSTASH_PORT, NEON_PORT.`;
  }
  return text;
}

async function main(): Promise<void> {
  const config = loadStartConfig();
  print('[start] bringing up the local topology (edge, 2 apps, 2 workers, local Upstash and Neon endpoints)');
  const topology = await startTopology(config, print);
  print(renderBanner(config, topology.demos));
  print('[start] ready');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      print('[start] second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    print(`[start] ${signal}: stopping everything`);
    topology.stop().then(
      () => {
        print('[start] stopped');
        process.exit(0);
      },
      (error: unknown) => {
        print(`[start] error while stopping: ${String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  process.stderr.write(`[start] failed: ${hint(error)}\n`);
  process.exit(1);
});
