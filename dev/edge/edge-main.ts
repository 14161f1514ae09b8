import { EDGE_BINDINGS, parseConfig } from '../../edge/config.js';
import type { EdgeBindings } from '../../edge/config.js';
import { startEdge } from './edge-runner.js';

// `node --import tsx dev/edge/edge-main.ts` (docker-compose): the edge Worker in workerd as a process of its own,
// configured by its Worker binding names from the environment plus EDGE_PORT / EDGE_HOST. Miniflare owns this
// process's SIGINT/SIGTERM handling and disposes workerd on exit.

async function main(): Promise<void> {
  // Validated here too, so a missing binding fails at start rather than on the first request.
  parseConfig(process.env);
  const bindings: EdgeBindings = {};
  for (const name of Object.keys(EDGE_BINDINGS) as (keyof typeof EDGE_BINDINGS)[]) {
    const value = process.env[name];
    if (value !== undefined) bindings[name] = value;
  }
  const edge = await startEdge({
    bindings,
    port: Number(process.env.EDGE_PORT ?? 8787),
    host: process.env.EDGE_HOST ?? '127.0.0.1',
    onLog: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'edge listening', url: edge.url })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: `edge: ${error instanceof Error ? error.message : String(error)}` })}\n`);
  process.exit(1);
});
