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

  it('after an edge rollback (the newest version is not deployed) stores the key on a new version the next upload inherits', async () => {
    const refusal = '✘ [ERROR] Secret edit failed. You attempted to modify a secret, but the latest version of your Worker isn\'t currently deployed.\n';
    const tools = fakeTools({
      wrangler: [
        { args: 'secret put AP_API_KEY --env production', stderr: refusal, exitCode: 1 },
        { args: 'versions secret put AP_API_KEY --env production', stdout: '✨ Success! Created version 0f6b2c4e-8a1d-4a57-9a3e-1b2c3d4e5f60 with secret AP_API_KEY.\n' },
      ],
    });
    const result = await runDeployCli('cli-sync-edge-api-key.ts', [], tools, { AP_API_KEY: KEY });
    expect(result.code).toBe(0);
    expect(tools.calls()).toEqual([
      { tool: 'wrangler', args: ['secret', 'put', 'AP_API_KEY', '--env', 'production'], stdin: KEY },
      { tool: 'wrangler', args: ['versions', 'secret', 'put', 'AP_API_KEY', '--env', 'production'], stdin: KEY },
    ]);
    expect(result.stdout).toContain('The next edge:upload inherits it');
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });
});
