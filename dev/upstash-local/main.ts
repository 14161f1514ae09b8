import { startUpstashLocal } from './server.js';

// CLI: `tsx dev/upstash-local/main.ts` serves AP_REDIS_URL over the Upstash REST protocol until SIGINT/SIGTERM.

function readPort(raw: string | undefined): number {
  const port = Number(raw ?? '8079');
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new Error(`UPSTASH_PORT must be an integer between 0 and 65535, got "${raw ?? ''}"`);
  }
  return port;
}

/** Hides a password in a Redis URL before it is printed. */
function redact(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable AP_REDIS_URL)';
  }
}

async function main(): Promise<void> {
  const token = process.env.UPSTASH_REDIS_REST_TOKEN ?? '';
  if (token === '') throw new Error('UPSTASH_REDIS_REST_TOKEN is not set; clients must present it as a Bearer token');
  const redisUrl = process.env.AP_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const local = await startUpstashLocal({ redisUrl, token, port: readPort(process.env.UPSTASH_PORT) });
  console.log(`upstash-local listening on ${local.url} (redis ${redact(redisUrl)})`);

  let stopping = false;
  const stop = (): void => {
    // A second Ctrl-C means "now", even if Redis is slow to say goodbye.
    if (stopping) process.exit(1);
    stopping = true;
    local.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('upstash-local: error while closing', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  console.error(`upstash-local: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
