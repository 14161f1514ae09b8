import { describe, expect, it } from 'vitest';
import { API_TOKEN, CLOUDFLARE_ENV, NEW_VERSION, OLD_VERSION } from './support/edge-fixtures.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

describe('npm run edge:rollback', () => {
  const fakeTools = useFakeTools();

  it('rolls back to the previous version with a message, without a prompt', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'rollback *', stdout: `Worker Version ${OLD_VERSION} has been deployed to 100% of traffic.\n\nCurrent Version ID: ${OLD_VERSION}\n` }] });
    const result = await runDeployCli('cli-edge-rollback.ts', ['--env', 'production', '--to', OLD_VERSION, '--message', 'edge check failed for 0.1.0.abc1234.canary'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.calls().map((call) => call.args)).toEqual([
      ['rollback', OLD_VERSION, '--message', 'edge check failed for 0.1.0.abc1234.canary', '--yes', '--env', 'production'],
    ]);
    expect(result.stdout).toContain(`edge (--env production): rolled back, ${OLD_VERSION} serves 100% of traffic`);
  });

  it('records a default message naming the target', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'rollback *' }] });
    const result = await runDeployCli('cli-edge-rollback.ts', ['--env', 'staging', '--to', OLD_VERSION], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.commandLines()).toEqual([`wrangler rollback ${OLD_VERSION} --message edge rolled back to ${OLD_VERSION} --yes --env staging`]);
  });

  it('exits 1 saying loudly that the edge was not rolled back, without echoing the API token', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'rollback *', stderr: '✘ [ERROR] Authentication error [code: 10000]\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-edge-rollback.ts', ['--env', 'production', '--to', OLD_VERSION], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`the edge was NOT rolled back to ${OLD_VERSION}`);
    expect(result.stdout + result.stderr + tools.commandLines().join('\n')).not.toContain(API_TOKEN);
  });

  it.each([['latest'], [''], [`${OLD_VERSION} --dry-run`], [NEW_VERSION.slice(0, 8)]])('exits 2 on the malformed version id %j, calling nothing', async (id) => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-rollback.ts', ['--env', 'production', '--to', id], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--to: must be a Worker version id/);
    expect(tools.calls()).toEqual([]);
  });

  it('exits 2 without --to', async () => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-rollback.ts', ['--env', 'production'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--to: is required \(the version to go back to/);
    expect(tools.calls()).toEqual([]);
  });
});
