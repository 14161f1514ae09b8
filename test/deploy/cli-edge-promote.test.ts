import { describe, expect, it } from 'vitest';
import { API_TOKEN, CLOUDFLARE_ENV, NEW_VERSION, OLD_VERSION } from './support/edge-fixtures.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

describe('npm run edge:promote', () => {
  const fakeTools = useFakeTools();

  it('deploys the new version to 100% of traffic, without a prompt', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions deploy *', stdout: `✨ Deployed canary-edge-production version ${NEW_VERSION} at 100%\n` }] });
    const result = await runDeployCli('cli-edge-promote.ts', ['--env', 'production', '--new', NEW_VERSION], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.calls().map((call) => call.args)).toEqual([
      ['versions', 'deploy', `${NEW_VERSION}@100%`, '--yes', '--env', 'production', '--message', `edge promoted: ${NEW_VERSION}`],
    ]);
    expect(result.stdout).toContain(`Deployed canary-edge-production version ${NEW_VERSION} at 100%`);
    expect(result.stdout).toContain(`edge (--env production): ${NEW_VERSION} serves 100% of traffic`);
  });

  it('exits 1 naming the fix when the deploy fails, without echoing the API token', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions deploy *', stderr: '✘ [ERROR] Authentication error [code: 10000]\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-edge-promote.ts', ['--env', 'production', '--new', NEW_VERSION], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${NEW_VERSION} was not promoted and edge traffic is as it was`);
    expect(result.stdout + result.stderr + tools.commandLines().join('\n')).not.toContain(API_TOKEN);
  });

  it.each([['latest'], [`${NEW_VERSION}@10%`], [`${OLD_VERSION},${NEW_VERSION}`]])('exits 2 on the malformed version id %j, calling nothing', async (id) => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-promote.ts', ['--env', 'production', '--new', id], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--new: must be a Worker version id/);
    expect(tools.calls()).toEqual([]);
  });

  it('exits 2 without --env: it moves every tenant\'s traffic, so the environment is never implied', async () => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-promote.ts', ['--new', NEW_VERSION], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--env: is required/);
    expect(tools.calls()).toEqual([]);
  });
});

describe('npm run edge:triggers', () => {
  const fakeTools = useFakeTools();

  it('applies the routes of wrangler.toml for --env', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'triggers deploy --env production', stdout: '  cloud.example.com/* (zone name: example.com)\n' }] });
    const result = await runDeployCli('cli-edge-triggers.ts', ['--env', 'production'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.commandLines()).toEqual(['wrangler triggers deploy --env production']);
    expect(result.stdout).toContain('routes of wrangler.toml applied');
  });

  it('exits 1 saying the promoted version keeps its routes when wrangler fails', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'triggers deploy *', stderr: '✘ [ERROR] route already assigned\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-edge-triggers.ts', ['--env', 'production'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the routes of wrangler.toml [env.production] were not applied; the promoted version keeps serving on the routes it had');
  });
});
