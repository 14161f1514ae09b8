import { describe, expect, it } from 'vitest';
import { API_TOKEN, CLOUDFLARE_ENV, deploymentStatus, NEW_VERSION, OLD_VERSION } from './support/edge-fixtures.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const STATUS = 'wrangler deployments status --json --env production';
const ARGS = ['--env', 'production', '--new', NEW_VERSION];

describe('npm run edge:deploy-split', () => {
  const fakeTools = useFakeTools();

  it('reads the version serving all traffic, sends 10% to the new one and prints the previous one', async () => {
    const tools = fakeTools({
      wrangler: [
        { args: 'deployments status --json --env production', stdout: deploymentStatus([[OLD_VERSION, 100]]) },
        { args: 'versions deploy *', stdout: `✨ Deployed canary-edge-production version ${NEW_VERSION} at 10% and version ${OLD_VERSION} at 90%\n` },
      ],
    });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${OLD_VERSION}\n`);
    expect(tools.calls().map((call) => call.args)).toEqual([
      ['deployments', 'status', '--json', '--env', 'production'],
      ['versions', 'deploy', `${NEW_VERSION}@10%`, `${OLD_VERSION}@90%`, '--yes', '--env', 'production', '--message', `edge canary: 10% to ${NEW_VERSION}`],
    ]);
    expect(result.stderr).toContain(`${NEW_VERSION} serves 10% of traffic, ${OLD_VERSION} the other 90%`);
  });

  it('sends the share --percent asks for, with --message', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'deployments status *', stdout: deploymentStatus([[OLD_VERSION, 100]]) }, { args: 'versions deploy *' }] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', [...ARGS, '--percent', '25', '--message', 'release 0.2.0'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.calls()[1]?.args).toEqual(['versions', 'deploy', `${NEW_VERSION}@25%`, `${OLD_VERSION}@75%`, '--yes', '--env', 'production', '--message', 'release 0.2.0']);
  });

  it('exits 1 and moves no traffic when the edge is already split between two versions', async () => {
    const other = '11111111-2222-4333-8444-555555555555';
    const tools = fakeTools({ wrangler: [{ args: 'deployments status *', stdout: deploymentStatus([[other, 10], [OLD_VERSION, 90]]) }] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`is split between ${other} (10%) and ${OLD_VERSION} (90%): another rollout is under way or was left half done`);
    expect(tools.commandLines()).toEqual([STATUS]);
  });

  it('exits 1 and moves no traffic when the current deployment cannot be read', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'deployments status *', stderr: '✘ [ERROR] The Worker canary-edge-production has no deployments.\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot tell which version serves the edge (--env production), so no traffic was moved');
    expect(result.stderr).toContain('deploy it once by hand (npm run deploy -- --env production)');
    expect(tools.commandLines()).toEqual([STATUS]);
  });

  it.each([
    ['not JSON', 'Created: 2026-05-03T09:41:12Z\n', /printed no JSON/],
    ['a deployment without versions', '{"id":"x","versions":[]}', /printed no deployment \(versions/],
    ['a version id that is not a UUID', '{"id":"x","versions":[{"version_id":"latest","percentage":100}]}', /printed no deployment \(versions\.0\.version_id/],
  ])('exits 1 and moves no traffic when the status is %s', async (_case, stdout, message) => {
    const tools = fakeTools({ wrangler: [{ args: 'deployments status *', stdout }] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
    expect(tools.commandLines()).toEqual([STATUS]);
  });

  it('exits 1 naming the version still serving when the split deploy fails, without echoing the API token', async () => {
    const tools = fakeTools({
      wrangler: [
        { args: 'deployments status *', stdout: deploymentStatus([[OLD_VERSION, 100]]) },
        { args: 'versions deploy *', stderr: '✘ [ERROR] A request to the Cloudflare API failed.\n', exitCode: 1 },
      ],
    });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`the split was not deployed; ${OLD_VERSION} should still serve all edge traffic`);
    expect(result.stdout + result.stderr + tools.commandLines().join('\n')).not.toContain(API_TOKEN);
  });

  it('exits 2 when the new version already serves all traffic, deploying nothing', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'deployments status *', stdout: deploymentStatus([[NEW_VERSION, 100]]) }] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${NEW_VERSION} already serves all edge traffic`);
    expect(tools.commandLines()).toEqual([STATUS]);
  });

  it.each([
    ['latest'],
    [NEW_VERSION.toUpperCase()],
    [`${NEW_VERSION}@100%`],
    [`${NEW_VERSION} ${OLD_VERSION}@0%`],
    [''],
  ])('exits 2 on the malformed version id %j, calling nothing', async (id) => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ['--env', 'production', '--new', id], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--new: must be a Worker version id/);
    expect(tools.calls()).toEqual([]);
  });

  it.each([['0'], ['100'], ['10.5'], ['-5']])('exits 2 on --percent %s, calling nothing', async (percent) => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', [...ARGS, '--percent', percent], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--percent: must be a whole percentage from 1 to 99/);
    expect(tools.calls()).toEqual([]);
  });

  it('exits 2 without --new', async () => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-deploy-split.ts', ['--env', 'production'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--new: is required \(the version edge:upload printed/);
    expect(tools.calls()).toEqual([]);
  });
});
