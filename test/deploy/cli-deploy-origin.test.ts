import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const TAG = '0.1.0.abc1234.canary';
const IMAGE = `ghcr.io/canary-edge/canary-edge:${TAG}`;
const ARGS = ['--image', IMAGE, '--version', TAG];
const render = (file: string) => readFileSync(new URL(`../../config/${file}`, import.meta.url), 'utf8').replaceAll('${IMAGE}', IMAGE).replaceAll('${AP_VERSION}', TAG);
const KUBECTL_OK = [
  { args: 'apply -f -', stdout: 'deployment.apps/configured\n' },
  { args: 'rollout status *', stdout: 'successfully rolled out\n' },
];

describe('canary:deploy-origin', () => {
  const fakeTools = useFakeTools();

  it('applies the rendered app then worker configs, then waits for both rollouts', async () => {
    const tools = fakeTools({ kubectl: KUBECTL_OK });
    const result = await runDeployCli('cli-deploy-origin.ts', ARGS, tools);
    expect(result.code).toBe(0);
    expect(tools.commandLines()).toEqual([
      'kubectl apply -f -',
      'kubectl apply -f -',
      'kubectl rollout status deployment/canary-edge-app-canary --timeout=10m',
      'kubectl rollout status deployment/canary-edge-worker-canary --timeout=10m',
    ]);
    expect(tools.calls().slice(0, 2).map((call) => call.stdin)).toEqual([render('app-canary.yml'), render('worker-canary.yml')]);
    expect(result.stdout).toContain('successfully rolled out');
    expect(result.stdout).toContain(`deployed ${IMAGE}: deployment/canary-edge-app-canary, deployment/canary-edge-worker-canary rolled out`);
  });

  it('passes --timeout to the rollout waits', async () => {
    const tools = fakeTools({ kubectl: KUBECTL_OK });
    const result = await runDeployCli('cli-deploy-origin.ts', [...ARGS, '--timeout', '90s'], tools);
    expect(result.code).toBe(0);
    expect(tools.commandLines().filter((line) => line.includes('rollout'))).toEqual([
      'kubectl rollout status deployment/canary-edge-app-canary --timeout=90s',
      'kubectl rollout status deployment/canary-edge-worker-canary --timeout=90s',
    ]);
  });

  it('with --dry-run prints the rendered manifests and touches no cluster', async () => {
    const tools = fakeTools({ kubectl: [] });
    const result = await runDeployCli('cli-deploy-origin.ts', [...ARGS, '--dry-run'], tools);
    expect(result.code).toBe(0);
    expect(tools.calls()).toEqual([]);
    expect(result.stdout).toBe(`---\n# Source: config/app-canary.yml\n${render('app-canary.yml')}---\n# Source: config/worker-canary.yml\n${render('worker-canary.yml')}`);
    const docs = parseAllDocuments(result.stdout);
    expect(docs.flatMap((doc) => doc.errors)).toEqual([]);
  });

  it('stops at a failing kubectl apply: non-zero, the worker config not applied, no rollout wait', async () => {
    const tools = fakeTools({ kubectl: [{ args: 'apply -f -', stderr: 'Error from server (Forbidden): deployments.apps is forbidden\n', exitCode: 1 }] });
    const result = await runDeployCli('cli-deploy-origin.ts', ARGS, tools);
    expect(result.code).toBe(1);
    expect(tools.commandLines()).toEqual(['kubectl apply -f -']);
    expect(result.stderr).toContain('Error from server (Forbidden)');
    expect(result.stderr).toContain('error: `kubectl apply -f -` exited with code 1: config/app-canary.yml was not applied and nothing was applied; no rollout was awaited');
  });

  it('fails naming the deployment whose rollout does not finish in time', async () => {
    const tools = fakeTools({
      kubectl: [
        { args: 'apply -f -' },
        { args: 'rollout status deployment/canary-edge-app-canary *', stderr: 'error: timed out waiting for the condition\n', exitCode: 1 },
      ],
    });
    const result = await runDeployCli('cli-deploy-origin.ts', ARGS, tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('deployment/canary-edge-app-canary did not finish rolling out within 10m');
    expect(tools.commandLines().at(-1)).toBe('kubectl rollout status deployment/canary-edge-app-canary --timeout=10m');
  });

  it('refuses a config with an unresolved placeholder before touching the cluster', async () => {
    const tools = fakeTools({ kubectl: [] });
    const configDir = join(tools.scratch, 'config');
    mkdirSync(configDir);
    writeFileSync(join(configDir, 'app-canary.yml'), readFileSync(new URL('../../config/app-canary.yml', import.meta.url), 'utf8'));
    const worker = readFileSync(new URL('../../config/worker-canary.yml', import.meta.url), 'utf8');
    expect(worker).toContain('  replicas: 1\n');
    writeFileSync(join(configDir, 'worker-canary.yml'), worker.replace('  replicas: 1\n', '  replicas: ${WORKER_REPLICAS}\n'));
    const result = await runDeployCli('cli-deploy-origin.ts', [...ARGS, '--config-dir', configDir], tools);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/worker-canary\.yml:\d+: unresolved placeholder \$\{WORKER_REPLICAS\}; only \$\{IMAGE\} and \$\{AP_VERSION\} are substituted/);
    expect(tools.calls()).toEqual([]);
  });

  it.each([
    ['an image tag other than --version', ['--image', `ghcr.io/canary-edge/canary-edge:0.1.0.fff0000.canary`, '--version', TAG], /is tagged "0\.1\.0\.fff0000\.canary" but --version is/],
    ['a version that is not a canary tag', ['--image', 'ghcr.io/canary-edge/canary-edge:latest', '--version', 'latest'], /"latest" is not a canary image tag/],
    ['a missing --image', ['--version', TAG], /--image: is required/],
    ['a malformed --timeout', [...ARGS, '--timeout', 'forever'], /--timeout: must be a duration/],
  ])('exits 2 on %s, touching no cluster', async (_case, args, message) => {
    const tools = fakeTools({ kubectl: [] });
    const result = await runDeployCli('cli-deploy-origin.ts', args, tools);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(tools.calls()).toEqual([]);
  });
});
