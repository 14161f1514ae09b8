import { parseConfig } from '../edge/config.js';
import { startEdge } from './edge-runner.js';

// `node --import tsx dev/edge-main.ts`: the edge Worker in workerd as a process of its own, configured by its Worker
// binding names (validated with the Worker's own schema) plus EDGE_PORT / EDGE_HOST. Miniflare owns this process's
// SIGINT/SIGTERM handling and disposes workerd on exit.

async function main(): Promise<void> {
  const config = parseConfig(process.env);
  const edge = await startEdge({
    ...config,
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
