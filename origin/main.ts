import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { PortTakenError, startApp } from './start-app.js';
import { startWorker } from './start-worker.js';
import { VersionMismatchError, WorkerUnauthorizedError } from './worker/rpc-client.js';

/** Exit code of a worker the app refused (version mismatch or bad key): a configuration error, EX_CONFIG. */
export const EXIT_REFUSED = 78;

/** Starts the role named by AP_CONTAINER_TYPE and wires SIGTERM/SIGINT to a graceful stop. */
export async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: error.message })}\n`);
    process.exit(EXIT_REFUSED);
  }
  const logger = createLogger({ role: config.containerType, version: config.version, instance: config.instanceId });
  const refused = (error: Error): void => {
    logger.error(`worker refused by the app: ${error.message}`);
    process.exit(EXIT_REFUSED);
  };

  let running: { close(): Promise<void> };
  try {
    running = config.containerType === 'APP' ? await startApp(config, logger) : await startWorker(config, logger, refused);
  } catch (error) {
    if (error instanceof VersionMismatchError || error instanceof WorkerUnauthorizedError) refused(error);
    if (error instanceof PortTakenError) {
      logger.error(error.message);
      process.exit(EXIT_REFUSED);
    }
    logger.error('startup failed', { error });
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    const hardStop = setTimeout(() => {
      logger.error('shutdown timed out');
      process.exit(1);
    }, config.shutdownTimeoutMs + 10_000);
    hardStop.unref();
    running.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main().catch((error: unknown) => {
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'fatal', error: error instanceof Error ? error.message : String(error) })}\n`);
    process.exit(1);
  });
}
