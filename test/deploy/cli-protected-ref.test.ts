import { describe, expect, it } from 'vitest';
import { resolveProtectedRef } from '../../tools/deploy/protected-ref.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

describe('refs a canary may be built from', () => {
  it.each([
    ['main', 'refs/heads/main'],
    ['refs/heads/main', 'refs/heads/main'],
    ['release-1.4', 'refs/heads/release-1.4'],
    ['refs/heads/release-2026.05', 'refs/heads/release-2026.05'],
    ['v1.4.0', 'refs/tags/v1.4.0'],
    ['refs/tags/v1.4.0-rc.1', 'refs/tags/v1.4.0-rc.1'],
  ])('accept %s as %s', (ref, qualified) => {
    expect(resolveProtectedRef(ref)).toBe(qualified);
  });

  it.each([
    'my-feature-branch',
    'feature/release-1.4',
    'abc1234def5678abc1234def5678abc1234def56',
    'refs/pull/42/merge',
    'refs/tags/main',
    'refs/heads/v1.4.0',
    'refs/tags/release-1.4',
    'release-',
    'release-1..4',
    'release-1.4.lock',
    'v1/../feature',
    'mainline',
    ' main',
    'main\n',
    '',
  ])('refuse %j, naming the allowed forms', (ref) => {
    expect(() => resolveProtectedRef(ref)).toThrow(/is not a ref the canary may be built from; use main, a release-\* branch \(release-1\.4\) or a v\* tag/);
  });
});

describe('canary:protected-ref', () => {
  const fakeTools = useFakeTools();

  it('prints the fully qualified ref and nothing else on stdout', async () => {
    const result = await runDeployCli('cli-protected-ref.ts', ['--ref', 'release-1.4', '--dispatch-ref', 'refs/heads/main', '--dispatch-ref-protected', 'true'], fakeTools({}));
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('refs/heads/release-1.4\n');
    expect(result.stderr).toContain('ok: building refs/heads/release-1.4, dispatched from protected refs/heads/main');
  });

  it('exits 2 for a feature branch, printing nothing on stdout', async () => {
    const result = await runDeployCli('cli-protected-ref.ts', ['--ref', 'my-feature-branch', '--dispatch-ref', 'refs/heads/main', '--dispatch-ref-protected', 'true'], fakeTools({}));
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('"my-feature-branch" is not a ref the canary may be built from');
  });

  it.each([['false'], ['']])('exits 1 when dispatched from a ref whose protection is %j (its own steps were not reviewed)', async (flag) => {
    const result = await runDeployCli('cli-protected-ref.ts', ['--ref', 'main', '--dispatch-ref', 'refs/heads/my-feature', '--dispatch-ref-protected', flag], fakeTools({}));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('the workflow was dispatched from refs/heads/my-feature, which is not protected');
  });

  it('checks the ref alone when run by hand', async () => {
    const result = await runDeployCli('cli-protected-ref.ts', ['--ref', 'v1.4.0'], fakeTools({}));
    expect(result).toMatchObject({ code: 0, stdout: 'refs/tags/v1.4.0\n' });
  });

  it('exits 2 when only half of the dispatch facts are given', async () => {
    const result = await runDeployCli('cli-protected-ref.ts', ['--ref', 'main', '--dispatch-ref', 'refs/heads/main'], fakeTools({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('pass --dispatch-ref and --dispatch-ref-protected together');
  });

  it('exits 2 without --ref', async () => {
    const result = await runDeployCli('cli-protected-ref.ts', [], fakeTools({}));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--ref: is required/);
  });
});
