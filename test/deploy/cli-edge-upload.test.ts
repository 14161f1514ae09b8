import { describe, expect, it } from 'vitest';
import { API_TOKEN, CLOUDFLARE_ENV, NEW_VERSION, UPLOAD_OUTPUT } from './support/edge-fixtures.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const ARGS = ['--env', 'production', '--tag', '0.1.0.abc1234.canary', '--message', 'canary 0.1.0.abc1234.canary'];

describe('npm run edge:upload', () => {
  const fakeTools = useFakeTools();

  it('uploads a version of the --env Worker with its tag and message, and prints only the new version id', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions upload *', stdout: UPLOAD_OUTPUT }] });
    const result = await runDeployCli('cli-edge-upload.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${NEW_VERSION}\n`);
    expect(tools.calls().map((call) => call.args)).toEqual([
      ['versions', 'upload', '--env', 'production', '--tag', '0.1.0.abc1234.canary', '--message', 'canary 0.1.0.abc1234.canary'],
    ]);
    expect(result.stderr).toContain('Uploaded canary-edge-production');
    expect(result.stderr).toContain(`uploaded edge version ${NEW_VERSION} (--env production)`);
  });

  it('passes only --env when no tag or message is given', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions upload --env staging', stdout: UPLOAD_OUTPUT }] });
    const result = await runDeployCli('cli-edge-upload.ts', ['--env', 'staging'], tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(0);
    expect(tools.commandLines()).toEqual(['wrangler versions upload --env staging']);
  });

  it('exits 1 naming the fix when wrangler fails, without echoing the API token', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions upload *', stderr: '✘ [ERROR] Authentication error [code: 10000]\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-edge-upload.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Authentication error');
    expect(result.stderr).toContain('no version was uploaded and edge traffic is unchanged');
    expect(result.stdout + result.stderr + tools.commandLines().join('\n')).not.toContain(API_TOKEN);
  });

  it('exits 1 when wrangler prints no version id, rather than guessing one', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions upload *', stdout: 'Uploaded canary-edge-production (4.12 sec)\n' }] });
    const result = await runDeployCli('cli-edge-upload.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/printed no "Worker Version ID: <uuid>" line/);
  });

  it('exits 1 when the printed version id is malformed', async () => {
    const tools = fakeTools({ wrangler: [{ args: 'versions upload *', stdout: 'Worker Version ID: not-a-version\n' }] });
    const result = await runDeployCli('cli-edge-upload.ts', ARGS, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/"not-a-version" is not a version id/);
  });

  it.each([
    ['a missing --env', ['--tag', 'x'], /--env: is required/],
    ['an --env that is not a wrangler environment', ['--env', 'production --dry-run'], /--env: must be a wrangler environment name/],
    ['a tag that is not a plain label', ['--env', 'production', '--tag', 'v1; curl evil'], /--tag: must be up to 64 letters/],
    ['a message on two lines', ['--env', 'production', '--message', 'one\ntwo'], /--message: must be one line/],
    ['an unknown flag', ['--env', 'production', '--name', 'other-worker'], /unknown option '--name'[\s\S]*usage: npm run -s edge:upload/],
  ])('exits 2 on %s, calling nothing', async (_case, args, message) => {
    const tools = fakeTools({ wrangler: [] });
    const result = await runDeployCli('cli-edge-upload.ts', args, tools, CLOUDFLARE_ENV);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(tools.calls()).toEqual([]);
  });
});
