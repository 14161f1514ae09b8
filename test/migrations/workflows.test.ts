import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';
import { CANARY_CONFIGS, DEFAULT_CONFIG_DIR } from '../../tools/deploy/deploy-origin.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

const stepSchema = z.object({ name: z.string().optional(), if: z.string().optional(), run: z.string().optional(), uses: z.string().optional(), env: z.record(z.string(), z.unknown()).optional(), with: z.record(z.string(), z.unknown()).optional() });
const workflowSchema = z.object({
  name: z.string(),
  on: z.record(z.string(), z.unknown()),
  permissions: z.record(z.string(), z.string()),
  concurrency: z.object({ group: z.string(), 'cancel-in-progress': z.boolean() }),
  jobs: z.record(z.string(), z.object({ permissions: z.unknown().optional(), steps: z.array(stepSchema) })),
});
type Workflow = z.infer<typeof workflowSchema>;

function loadWorkflow(file: string): { workflow: Workflow; text: string } {
  const text = read(`.github/workflows/${file}`);
  const doc = parseDocument(text);
  expect(doc.errors).toEqual([]);
  return { workflow: workflowSchema.parse(doc.toJS()), text };
}

const steps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps);
const scripts = (workflow: Workflow) => steps(workflow).map((s) => s.run ?? '').join('\n');
const npmRuns = (workflow: Workflow) => [...scripts(workflow).matchAll(/\bnpm run (?:--?[\w-]+ )*([\w:.-]+)/g)].map((m) => m[1]);
const referencedSecrets = (text: string) => new Set([...text.matchAll(/\$\{\{\s*secrets\.([A-Z0-9_]+)\s*\}\}/g)].map((m) => m[1]));

const packageScripts = z.object({ scripts: z.record(z.string(), z.string()) }).parse(JSON.parse(read('package.json'))).scripts;

// The only shell a workflow may run besides npm: passing values between steps and writing the kubeconfig secret to the
// file kubectl reads. Anything else is real work and belongs in an npm script with a spec.
const PLUMBING = [
  /^#/,
  /^\w+="\$\(npm run --silent [\w:.-]+(?: -- [^()|;&`]*)?\)"$/,
  /^echo "[^"`]*" >> "\$(?:GITHUB_OUTPUT|GITHUB_STEP_SUMMARY)"$/,
  /^args=\([^()]*\)$/,
  /^if \[ "\$FORCE" = "true" \]; then args\+=\(--force\); fi$/,
  /^printf '%s' "\$KUBE_CONFIG" \| base64 -d > "\$KUBECONFIG"$/,
];
// `npm ci`, or `npm run X [-- args]` whose arguments are plain words or quoted variables: no pipes, no substitutions.
const NPM_ARGUMENT = String.raw`(?:[\w./:=-]+|"\$[A-Z_]+"|"\$\{args\[@\]\}")`;
const NPM_COMMAND = new RegExp(String.raw`^npm (?:ci|run [\w:.-]+(?: --(?: ${NPM_ARGUMENT})+)?)$`);
const shellLines = (step: { run?: string }) => (step.run ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '');

// Values that look like credentials: API keys, tokens, passwords in URLs, long random strings.
const SECRET_LOOKING = [
  /\bsk-[A-Za-z0-9_-]{12,}/,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/,
  /\bAKIA[0-9A-Z]{16}\b/,
  /\b[a-z]+:\/\/[^\s/:@$]+:[^\s@$]+@/,
  /(?<![\w$])[A-Za-z0-9+/_-]{40,}={0,2}(?![\w])/,
];

describe.each([
  ['continuous-delivery-canary.yml', ['AP_API_KEY', 'AP_POSTGRES_URL', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD', 'KUBE_CONFIG', 'CLOUDFLARE_API_TOKEN']],
  ['continuous-delivery-rollback-canary.yml', ['AP_POSTGRES_URL', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD', 'KUBE_CONFIG']],
])('workflow %s', (file, secrets) => {
  const { workflow, text } = loadWorkflow(file);

  it('asks for read-only repository access and nothing more', () => {
    expect(workflow.permissions).toEqual({ contents: 'read' });
    for (const job of Object.values(workflow.jobs)) expect(job.permissions).toBeUndefined();
  });

  it('shares one concurrency group with the other canary workflow and never cancels a deploy midway', () => {
    expect(workflow.concurrency).toEqual({ group: 'canary-delivery', 'cancel-in-progress': false });
  });

  it(`references its secrets (${secrets.join(', ')}) through \${{ secrets.X }}`, () => {
    const referenced = referencedSecrets(text);
    for (const secret of secrets) expect(referenced).toContain(secret);
  });

  it('inlines no secret-looking value', () => {
    const withoutExpressions = text.replace(/\$\{\{[^}]*\}\}/g, '');
    for (const pattern of SECRET_LOOKING) expect(withoutExpressions).not.toMatch(pattern);
    for (const step of steps(workflow)) {
      for (const [key, value] of Object.entries({ ...step.env, ...step.with })) {
        if (/token|password|secret|api_key|postgres_url|kube_config/i.test(key)) expect(String(value)).toMatch(/^\$\{\{\s*secrets\.[A-Z0-9_]+\s*\}\}$/);
      }
    }
  });

  it('never interpolates workflow inputs into shell code', () => {
    expect(scripts(workflow)).not.toMatch(/\$\{\{\s*(inputs|github\.event\.inputs)\./);
  });

  it('calls only npm scripts that exist in package.json', () => {
    const called = npmRuns(workflow);
    expect(called.length).toBeGreaterThan(0);
    for (const script of called) expect(Object.keys(packageScripts)).toContain(script);
  });

  it('does its real work in npm scripts; its shell only passes values between steps', () => {
    for (const step of steps(workflow)) {
      for (const line of shellLines(step)) {
        if (PLUMBING.some((pattern) => pattern.test(line))) continue;
        expect(line, `step "${step.name ?? ''}"`).toMatch(NPM_COMMAND);
      }
    }
  });

  it('runs no deploy tool inline (kubectl, docker, envsubst, git, wrangler, curl): tested npm scripts do', () => {
    expect(scripts(workflow)).not.toMatch(/\b(?:kubectl|docker|envsubst|git|wrangler|npx|curl)\b/);
  });

  it('deploys the canary app and workers with canary:deploy-origin, whose configs exist', () => {
    expect(npmRuns(workflow)).toContain('canary:deploy-origin');
    for (const config of CANARY_CONFIGS) expect(existsSync(`${DEFAULT_CONFIG_DIR}${config}`)).toBe(true);
  });
});

describe('npm scripts the workflows call', () => {
  const specs = readdirSync(`${ROOT}test/deploy`).filter((file) => file.endsWith('.test.ts')).map((file) => read(`test/deploy/${file}`)).join('\n');
  const canaryScripts = Object.entries(packageScripts).filter(([name]) => name.startsWith('canary:'));

  it.each(canaryScripts)('%s runs a tools/deploy CLI that exists and has a spec in test/deploy', (name, command) => {
    const cli = /^tsx (tools\/deploy\/cli-[a-z-]+\.ts)$/.exec(command)?.[1];
    expect(cli).toBeDefined();
    expect(existsSync(`${ROOT}${cli ?? ''}`)).toBe(true);
    expect(specs).toContain(`describe('${name}'`);
  });
});

describe('workflow continuous-delivery-canary.yml', () => {
  const { workflow } = loadWorkflow('continuous-delivery-canary.yml');
  const on = z.object({
    schedule: z.array(z.object({ cron: z.string() })),
    workflow_dispatch: z.object({ inputs: z.object({ ref: z.object({ required: z.boolean(), default: z.string() }) }) }),
  }).strict().parse(workflow.on);
  const run = scripts(workflow);

  it('runs every day at 09:00 UTC and on demand for a chosen ref', () => {
    expect(on.schedule).toEqual([{ cron: '0 9 * * *' }]);
    expect(on.workflow_dispatch.inputs.ref).toMatchObject({ required: true, default: 'main' });
  });

  it('tags, reads the running canary, guards, gates, migrates and deploys through npm scripts, in that order', () => {
    expect(npmRuns(workflow)).toEqual([
      'canary:image-tag',
      'migrations:lint',
      'canary:running-manifest',
      'canary:guard-nightly',
      'migrations:check',
      'db:migrate',
      'canary:deploy-origin',
      'canary:sync-edge-api-key',
      'deploy',
    ]);
    expect(run).toContain('tag="$(npm run --silent canary:image-tag)"');
    expect(run).toContain('npm run --silent canary:running-manifest -- --deployment canary-edge-app-canary --out running-manifest.json');
    expect(run).toContain('npm run canary:deploy-origin -- --image "$IMAGE" --version "$AP_VERSION"');
  });

  it('keeps a feature-branch canary only from the nightly run, checking the image the cluster reported', () => {
    const guard = steps(workflow).find((s) => (s.run ?? '').includes('canary:guard-nightly'));
    expect(guard?.if).toBe("github.event_name == 'schedule'");
    expect(guard?.env).toEqual({ RUNNING_IMAGE: '${{ steps.running.outputs.image }}' });
    expect(guard?.run).toBe('npm run canary:guard-nightly -- --running-image "$RUNNING_IMAGE"');
  });

  it('gates on the running canary manifest before building, migrating or deploying', () => {
    const order = ['canary:running-manifest', 'migrations:check -- --running-manifest running-manifest.json', 'docker/build-push-action', 'npm run db:migrate', 'canary:deploy-origin', 'npm run deploy -- --env production'];
    const positions = order.map((needle) => steps(workflow).findIndex((s) => `${s.run ?? ''}${s.uses ?? ''}`.includes(needle)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });
});

describe('workflow continuous-delivery-rollback-canary.yml', () => {
  const { workflow } = loadWorkflow('continuous-delivery-rollback-canary.yml');
  const on = z.object({
    workflow_dispatch: z.object({
      inputs: z.object({
        rollback_to_image_tag: z.object({ required: z.boolean(), type: z.string() }),
        force: z.object({ type: z.string(), default: z.boolean() }),
      }).strict(),
    }),
  }).strict().parse(workflow.on);

  it('is started by hand with the target tag and an opt-in force', () => {
    expect(on.workflow_dispatch.inputs.rollback_to_image_tag).toMatchObject({ required: true, type: 'string' });
    expect(on.workflow_dispatch.inputs.force).toEqual(expect.objectContaining({ type: 'boolean', default: false }));
  });

  it('validates the tag, extracts the target manifest, rolls back and redeploys through npm scripts, in that order', () => {
    expect(npmRuns(workflow)).toEqual(['canary:validate-tag', 'canary:image-manifest', 'migrations:rollback', 'migrations:rollback', 'canary:deploy-origin']);
    const run = scripts(workflow);
    expect(run).toContain('npm run canary:validate-tag -- --tag "$TARGET_TAG"');
    expect(run).toContain('npm run canary:image-manifest -- --image "$TARGET_IMAGE" --out target-manifest.json');
    expect(run).toContain('npm run canary:deploy-origin -- --image "$TARGET_IMAGE" --version "$TARGET_TAG"');
  });

  it('rejects a malformed tag before logging in to the registry', () => {
    const all = steps(workflow);
    const validateAt = all.findIndex((s) => (s.run ?? '').includes('canary:validate-tag'));
    const loginAt = all.findIndex((s) => s.uses?.startsWith('docker/login-action'));
    expect(validateAt).toBeGreaterThanOrEqual(0);
    expect(loginAt).toBeGreaterThan(validateAt);
  });

  it('rolls the database back before redeploying the target image, passing --force only when asked', () => {
    const all = steps(workflow);
    const rollbackAt = all.findIndex((s) => /npm run migrations:rollback -- "\$\{args\[@\]\}"$/m.test(s.run ?? '') && !(s.run ?? '').includes('--dry-run'));
    const deployAt = all.findIndex((s) => (s.run ?? '').includes('canary:deploy-origin'));
    expect(rollbackAt).toBeGreaterThanOrEqual(0);
    expect(deployAt).toBeGreaterThan(rollbackAt);
    expect(all[rollbackAt]?.run).toMatch(/if \[ "\$FORCE" = "true" \]; then args\+=\(--force\); fi/);
  });
});

describe('canary deploy configs', () => {
  const docs = (file: string) => parseAllDocuments(read(file)).map((doc) => {
    expect(doc.errors).toEqual([]);
    return JSON.stringify(doc.toJS());
  });

  it('run the app as APP and the workers as canary WORKERs, on the substituted image and version', () => {
    const [app] = docs('config/app-canary.yml');
    const [worker] = docs('config/worker-canary.yml');
    expect(app).toContain('"name":"AP_CONTAINER_TYPE","value":"APP"');
    expect(worker).toContain('"name":"AP_CONTAINER_TYPE","value":"WORKER"');
    expect(worker).toContain('"name":"AP_IS_CANARY_WORKER","value":"true"');
    for (const doc of [app, worker]) {
      expect(doc).toContain('"image":"${IMAGE}"');
      expect(doc).toContain('"name":"AP_VERSION","value":"${AP_VERSION}"');
      for (const pattern of SECRET_LOOKING) expect(doc).not.toMatch(pattern);
    }
  });
});
