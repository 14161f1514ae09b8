import { spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from '@upstash/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { allocatePort } from '../../testkit/ports.js';
import { createTestDatabase } from '../../testkit/test-database.js';
import type { TestDatabase } from '../../testkit/test-database.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
let db: TestDatabase;
let redisDb: ReservedRedisDb;

beforeAll(async () => {
  [db, redisDb] = await Promise.all([createTestDatabase({ migrate: false }), reserveRedisDb()]);
});
afterAll(async () => {
  await Promise.all([db?.close(), redisDb?.close()]);
});

describe('npm run local-cloud', () => {
  it('serves both local endpoints on their ports, prints the .dev.vars lines, and exits 0 on SIGINT', async () => {
    const [upstashPort, neonPort] = [await allocatePort(), await allocatePort()];
    const child = spawn(process.execPath, ['--import', 'tsx', 'dev/local-cloud.ts'], {
      cwd: ROOT,
      env: { ...process.env, AP_REDIS_URL: redisDb.url, AP_POSTGRES_URL: db.url, UPSTASH_PORT: String(upstashPort), NEON_PORT: String(neonPort), UPSTASH_REDIS_REST_TOKEN: 'tok-local-cloud-test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const output = await new Promise<string>((resolve, reject) => {
        let text = '';
        child.stdout.setEncoding('utf8');
        child.stdout.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('Ctrl-C stops both.')) resolve(text);
        });
        child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
        void exited.then((code) => reject(new Error(`exited with ${String(code)} before serving: ${text}`)));
      });
      expect(output).toContain(`UPSTASH_REDIS_REST_URL=http://127.0.0.1:${upstashPort}`);
      expect(output).toContain(`NEON_HTTP_ENDPOINT=http://127.0.0.1:${neonPort}/sql`);
      const redis = new Redis({ url: `http://127.0.0.1:${upstashPort}`, token: 'tok-local-cloud-test', enableTelemetry: false });
      expect(await redis.set('local-cloud-test', 'ok')).toBe('OK');
      const sql = await fetch(`http://127.0.0.1:${neonPort}/sql`, {
        method: 'POST',
        body: JSON.stringify({ query: 'SELECT 1 AS one' }),
        headers: { 'Neon-Connection-String': db.url, 'Neon-Raw-Text-Output': 'true', 'Neon-Array-Mode': 'true' },
      });
      expect(await sql.json()).toMatchObject({ rows: [['1']] });
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
