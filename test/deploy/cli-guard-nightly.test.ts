import { describe, expect, it } from 'vitest';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const FROM_MAIN = 'ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary';
const FIX = 'When that canary is done, deploy main by hand: gh workflow run continuous-delivery-canary.yml -f ref=main';

describe('canary:guard-nightly', () => {
  const fakeTools = useFakeTools();

  it('lets the nightly build replace a canary built from a commit on origin/main', async () => {
    const tools = fakeTools({ git: [{ args: 'merge-base --is-ancestor abc1234 origin/main', exitCode: 0 }] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', FROM_MAIN], tools);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`ok: the canary runs ${FROM_MAIN}, built from abc1234 on origin/main`);
    expect(tools.commandLines()).toEqual(['git merge-base --is-ancestor abc1234 origin/main']);
  });

  it('fails naming the fix when the running canary was built from a commit not on origin/main', async () => {
    const tools = fakeTools({ git: [{ args: 'merge-base --is-ancestor *', exitCode: 1 }] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', 'ghcr.io/canary-edge/canary-edge:0.2.0.fea7123.canary'], tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('error: the canary runs ghcr.io/canary-edge/canary-edge:0.2.0.fea7123.canary, built from fea7123, which is not on origin/main (a feature-branch canary)');
    expect(result.stderr).toContain(FIX);
    expect(tools.commandLines()).toEqual(['git merge-base --is-ancestor fea7123 origin/main']);
  });

  it('fails when git does not know the running commit (a deleted or force-pushed branch)', async () => {
    const tools = fakeTools({ git: [{ args: 'merge-base *', stderr: 'fatal: Not a valid commit name fea7123\n', exitCode: 128 }] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', 'ghcr.io/canary-edge/canary-edge:0.2.0.fea7123.canary'], tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/which git cannot place relative to origin\/main \(exit 128: a deleted or force-pushed branch/);
    expect(result.stderr).toContain(FIX);
  });

  it('fails without asking git when the running image is not canary-tagged', async () => {
    const tools = fakeTools({ git: [] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', 'ghcr.io/canary-edge/canary-edge:latest'], tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/whose tag is not <version>\.<sha>\.canary, so the commit it was built from is unknown/);
    expect(tools.calls()).toEqual([]);
  });

  it('passes when nothing is deployed (an empty running image)', async () => {
    const tools = fakeTools({ git: [] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', ''], tools);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/no canary is deployed yet/);
    expect(tools.calls()).toEqual([]);
  });

  it('checks against another main ref when asked', async () => {
    const tools = fakeTools({ git: [{ args: 'merge-base --is-ancestor abc1234 upstream/main', exitCode: 0 }] });
    const result = await runDeployCli('cli-guard-nightly.ts', ['--running-image', FROM_MAIN, '--main-ref', 'upstream/main'], tools);
    expect(result.code).toBe(0);
  });
});
