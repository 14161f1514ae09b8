import { z } from 'zod';
import { startEdge } from './edge-runner.js';

// `node --import tsx dev/edge-main.ts`: the edge Worker in workerd as a process of its own, configured by the same
// names as its Worker bindings. Miniflare owns this process's SIGINT/SIGTERM handling and disposes workerd on exit.

const schema = z.object({
  EDGE_PORT: z.coerce.number().int().min(0).max(65_535).default(8787),
  EDGE_HOST: z.string().default('127.0.0.1'),
  AP_PRIMARY_APP_URL: z.url(),
  AP_CANARY_APP_URL: z.string().default(''),
  AP_API_KEY: z.string().min(1),
  AP_JWT_SECRET: z.string().min(1),
  UPSTASH_REDIS_REST_URL: z.string().default(''),
  UPSTASH_REDIS_REST_TOKEN: z.string().default(''),
  DATABASE_URL: z.string().min(1),
  NEON_HTTP_ENDPOINT: z.string().default(''),
  STORE_TIMEOUT_MS: z.coerce.number().int().positive().default(1_000),
});

async function main(): Promise<void> {
  const parsed = schema.safeParse(process.env);
  if (!parsed.success) {
    const names = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
    throw new Error(`edge: missing or invalid environment: ${names}`);
  }
  const e = parsed.data;
  const edge = await startEdge({
    port: e.EDGE_PORT,
    host: e.EDGE_HOST,
    primaryUrl: e.AP_PRIMARY_APP_URL,
    canaryUrl: e.AP_CANARY_APP_URL,
    apiKey: e.AP_API_KEY,
    jwtSecret: e.AP_JWT_SECRET,
    upstashUrl: e.UPSTASH_REDIS_REST_URL,
    upstashToken: e.UPSTASH_REDIS_REST_TOKEN,
    databaseUrl: e.DATABASE_URL,
    neonHttpEndpoint: e.NEON_HTTP_ENDPOINT,
    storeTimeoutMs: e.STORE_TIMEOUT_MS,
    onLog: (line) => process.stdout.write(`${line}\n`),
  });
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'edge listening', url: edge.url })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: error instanceof Error ? error.message : String(error) })}\n`);
  process.exit(1);
});
