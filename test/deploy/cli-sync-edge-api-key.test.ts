import { describe, expect, it } from 'vitest';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const KEY = 'sk-test-0123456789abcdef';

describe('canary:sync-edge-api-key', () => {
  const fakeTools = useFakeTools();

  it('hands AP_API_KEY to wrangler on stdin, never on the command line', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'secret put AP_API_KEY --env production', stdout: 'Success! Uploaded secret AP_API_KEY\n' }] });
    const result = await runDeployCli('cli-sync-edge-api-key.ts', [], tools, { AP_API_KEY: KEY });
    expect(result.code).toBe(0);
    expect(tools.calls()).toEqual([{ tool: 'wrangler', args: ['secret', 'put', 'AP_API_KEY', '--env', 'production'], stdin: KEY }]);
    expect(result.stdout).toContain('AP_API_KEY is set on the edge Worker (--env production)');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('targets another wrangler environment with --env', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'secret put AP_API_KEY --env staging' }] });
    const result = await runDeployCli('cli-sync-edge-api-key.ts', ['--env', 'staging'], tools, { AP_API_KEY: KEY });
    expect(result.code).toBe(0);
  });

  it('exits 2 without AP_API_KEY, calling nothing', async () => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-sync-edge-api-key.ts', [], tools, { AP_API_KEY: '' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/AP_API_KEY is not set; export the primary app's API key/);
    expect(tools.calls()).toEqual([]);
  });

  it('exits 1 when wrangler fails, without echoing the key', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'secret put *', stderr: 'Authentication error [code: 10000]\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-sync-edge-api-key.ts', [], tools, { AP_API_KEY: KEY });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the edge keeps its previous AP_API_KEY; check CLOUDFLARE_API_TOKEN');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });
});
