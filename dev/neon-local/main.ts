import { startNeonLocal } from './server.js';

/** `tsx dev/neon-local/main.ts`: the local Neon endpoint on NEON_PORT (default 8078) until SIGINT/SIGTERM. */
async function main(): Promise<void> {
  const raw = process.env.NEON_PORT ?? '8078';
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    console.error(`neon-local: NEON_PORT must be a port number, got "${raw}"`);
    process.exit(1);
  }
  const neon = await startNeonLocal({ port });
  console.log(`neon-local: Neon SQL-over-HTTP endpoint on ${neon.url}`);
  console.log(`neon-local: fetch endpoint ${neon.fetchEndpoint} (set neonConfig.fetchEndpoint to it)`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    console.log(`neon-local: ${signal}, closing`);
    neon.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error('neon-local: close failed', error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('neon-local: failed to start', error);
  process.exit(1);
});
