import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const SHA = 'abc1234def5678abc1234def5678abc1234def56';

describe('canary:image-tag', () => {
  const fakeTools = useFakeTools();

  it('prints <package.json version>.<sha7>.canary for HEAD, and only that', async () => {
    const tools = fakeTools({ git: [{ args: 'rev-parse --verify HEAD', stdout: `${SHA}\n` }] });
    const result = await runDeployCli('cli-image-tag.ts', [], tools);
    expect(result).toMatchObject({ code: 0, stdout: `${version}.abc1234.canary\n` });
    expect(tools.commandLines()).toEqual(['git rev-parse --verify HEAD']);
  });

  it('fails naming the fix outside a git checkout', async () => {
    const tools = fakeTools({ git: [{ args: 'rev-parse *', stderr: 'fatal: not a git repository\n', exitCode: 128 }] });
    const result = await runDeployCli('cli-image-tag.ts', [], tools);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('fatal: not a git repository');
    expect(result.stderr).toContain('error: `git rev-parse --verify HEAD` exited with code 128: run from a git checkout');
  });

  it('takes no arguments', async () => {
    const tools = fakeTools({});
    const result = await runDeployCli('cli-image-tag.ts', ['--sha', SHA], tools);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/usage: npm run -s canary:image-tag/);
  });
});

describe('canary:validate-tag', () => {
  const fakeTools = useFakeTools();

  it('accepts <version>.<sha>.canary and names its parts', async () => {
    const result = await runDeployCli('cli-validate-tag.ts', ['--tag', '0.51.0.abc1234.canary'], fakeTools({}));
    expect(result).toMatchObject({ code: 0, stdout: 'ok: 0.51.0.abc1234.canary is version 0.51.0 built from commit abc1234\n' });
  });

  it.each(['latest', '0.51.0.abc1234', '0.51.0.abc1234.canary; echo pwned'])('exits 2 for %j, showing the expected form', async (tag) => {
    const result = await runDeployCli('cli-validate-tag.ts', ['--tag', tag], fakeTools({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected <version>.<sha>.canary, e.g. 0.1.0.abc1234.canary');
  });

  it('exits 2 without --tag', async () => {
    const result = await runDeployCli('cli-validate-tag.ts', [], fakeTools({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--tag: is required/);
  });
});
