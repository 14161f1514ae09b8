import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..', '..');
// Offline and quiet: no login, no telemetry, no network look-ups, logs kept out of the home directory.
const WRANGLER_ENV = {
  ...process.env,
  WRANGLER_SEND_METRICS: 'false',
  CLOUDFLARE_CF_FETCH_ENABLED: 'false',
  WRANGLER_LOG_PATH: path.join(ROOT, '.wrangler', 'logs'),
  CLOUDFLARE_API_TOKEN: '',
};
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'canary-edge-wrangler-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('wrangler', () => {
  it.each(['', 'staging', 'production'])('bundles the Worker with deploy --dry-run (env %j)', async (env) => {
    const outdir = path.join(tmp, `out-${env || 'top'}`);
    const { stdout } = await run('npx', ['wrangler', 'deploy', '--dry-run', '--outdir', outdir, `--env=${env}`], {
      cwd: ROOT,
      env: WRANGLER_ENV,
    });
    expect(stdout).toContain('--dry-run: exiting now.');
    expect(stdout).toContain('AP_PRIMARY_APP_URL');
    const bundle = await stat(path.join(outdir, 'index.js'));
    expect(bundle.size).toBeGreaterThan(0);
  });

  it('has committed binding types that match wrangler.toml', async () => {
    const out = path.join(tmp, 'worker-configuration.d.ts');
    await run('npx', ['wrangler', 'types', out, '--strict-vars=false', '--env-file', '.dev.vars.example'], { cwd: ROOT, env: WRANGLER_ENV });
    // The first two lines name the command and output path, and the entry import is relative to the output file;
    // everything else must be identical.
    const body = (text: string) =>
      text.split('\n').slice(2).join('\n').replace(/mainModule: typeof import\("[^"]+"\)/, 'mainModule: <entry>');
    const committed = await readFile(path.join(ROOT, 'edge', 'worker-configuration.d.ts'), 'utf8');
    expect(body(await readFile(out, 'utf8')), 'run `npm run cf-typegen` and commit the result').toBe(body(committed));
  });
});
