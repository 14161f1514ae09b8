import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { IMAGE_MANIFEST_PATH } from '../../tools/migrations/manifest.js';
import { useFakeTools } from './support/fake-tools.js';
import { runDeployCli } from './support/run-deploy-cli.js';

const IMAGE = 'ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary';
const MANIFEST = { version: 1, migrations: ['0001_initial_schema', '0002_flow_run_started_at'] };
const GET_IMAGE = `kubectl get deployment/canary-edge-app-canary -o jsonpath={.spec.template.spec.containers[0].image} --ignore-not-found`;
const CAT_MANIFEST = `docker run --rm --entrypoint cat ${IMAGE} ${IMAGE_MANIFEST_PATH}`;

describe('canary:running-manifest', () => {
  const fakeTools = useFakeTools();
  const args = (out: string) => ['--deployment', 'canary-edge-app-canary', '--out', out];

  it('writes the running image\'s manifest and prints the image', async () => {
    const tools = fakeTools({
      kubectl: [{ args: 'get deployment/canary-edge-app-canary *', stdout: IMAGE }],
      docker: [{ args: 'run --rm --entrypoint cat *', stdout: JSON.stringify(MANIFEST) }],
    });
    const out = join(tools.scratch, 'nested', 'running-manifest.json');
    const result = await runDeployCli('cli-running-manifest.ts', args(out), tools);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${IMAGE}\n`);
    expect(result.stderr).toContain(`deployment/canary-edge-app-canary runs ${IMAGE}; wrote its manifest to ${out} (2 migration(s), last: 0002_flow_run_started_at)`);
    expect(tools.commandLines()).toEqual([GET_IMAGE, CAT_MANIFEST]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(MANIFEST);
  });

  it('writes an empty file and says "nothing deployed yet" when the deployment does not exist', async () => {
    const tools = fakeTools({ kubectl: [{ args: 'get *', stdout: '' }] });
    const out = join(tools.scratch, 'running-manifest.json');
    const result = await runDeployCli('cli-running-manifest.ts', args(out), tools);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('\n');
    expect(result.stderr).toContain('deployment/canary-edge-app-canary does not exist: nothing deployed yet');
    expect(tools.commandLines()).toEqual([GET_IMAGE]);
    expect(readFileSync(out, 'utf8')).toBe('');
  });

  it('fails, writing nothing, when the cluster cannot be asked (never "nothing deployed")', async () => {
    const tools = fakeTools({ kubectl: [{ args: 'get *', stderr: 'The connection to the server was refused\n', exitCode: 1 }] });
    const out = join(tools.scratch, 'running-manifest.json');
    const result = await runDeployCli('cli-running-manifest.ts', args(out), tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The connection to the server was refused');
    expect(result.stderr).toMatch(/cannot tell what the canary runs; check cluster access \(KUBECONFIG/);
    expect(result.stderr).not.toMatch(/nothing deployed/);
    expect(existsSync(out)).toBe(false);
  });

  it('fails, writing nothing, when the running image carries no manifest (unknown state)', async () => {
    const tools = fakeTools({
      kubectl: [{ args: 'get *', stdout: IMAGE }],
      docker: [{ args: 'run *', stderr: `cat: ${IMAGE_MANIFEST_PATH}: No such file or directory\n`, exitCode: 1 }],
    });
    const out = join(tools.scratch, 'running-manifest.json');
    const result = await runDeployCli('cli-running-manifest.ts', args(out), tools);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(`cannot read ${IMAGE_MANIFEST_PATH} from ${IMAGE}, so its migrations are unknown`);
    expect(result.stderr).not.toMatch(/nothing deployed/);
    expect(tools.commandLines()).toEqual([GET_IMAGE, CAT_MANIFEST]);
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['empty', '', 1, /carries an empty manifest/],
    ['an empty list', '{"version":1,"migrations":[]}', 1, /carries an empty manifest/],
    ['not JSON', 'garbage', 2, /the manifest in .* is not JSON/],
  ])('fails when the image\'s manifest is %s', async (_case, stdout, code, message) => {
    const tools = fakeTools({ kubectl: [{ args: 'get *', stdout: IMAGE }], docker: [{ args: 'run *', stdout }] });
    const out = join(tools.scratch, 'running-manifest.json');
    const result = await runDeployCli('cli-running-manifest.ts', args(out), tools);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 without --out', async () => {
    const tools = fakeTools({});
    const result = await runDeployCli('cli-running-manifest.ts', ['--deployment', 'canary-edge-app-canary'], tools);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out: is required/);
    expect(tools.calls()).toEqual([]);
  });
});

describe('canary:image-manifest', () => {
  const fakeTools = useFakeTools();

  it('writes the manifest the image carries and lists it', async () => {
    const tools = fakeTools({ docker: [{ args: 'run --rm --entrypoint cat *', stdout: JSON.stringify(MANIFEST.migrations) }] });
    const out = join(tools.scratch, 'target-manifest.json');
    const result = await runDeployCli('cli-image-manifest.ts', ['--image', IMAGE, '--out', out], tools);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`wrote the manifest of ${IMAGE} to ${out}: 2 migration(s)\n  0001_initial_schema\n  0002_flow_run_started_at\n`);
    expect(tools.commandLines()).toEqual([CAT_MANIFEST]);
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(MANIFEST);
  });

  it('exits non-zero when the image has no manifest', async () => {
    const tools = fakeTools({ docker: [{ args: 'run *', stderr: 'cat: no such file\n', exitCode: 1 }] });
    const out = join(tools.scratch, 'target-manifest.json');
    const result = await runDeployCli('cli-image-manifest.ts', ['--image', IMAGE, '--out', out], tools);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`error: \`${CAT_MANIFEST}\` exited with code 1: cannot read ${IMAGE_MANIFEST_PATH}`);
    expect(existsSync(out)).toBe(false);
  });
});
