import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parseDocument } from 'yaml';
import { z } from 'zod';
import { CANARY_CONFIGS, DEFAULT_CONFIG_DIR } from '../../tools/deploy/deploy-origin.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(`${ROOT}${path}`, 'utf8');

const stepSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  if: z.string().optional(),
  run: z.string().optional(),
  uses: z.string().optional(),
  'working-directory': z.string().optional(),
  env: z.record(z.string(), z.unknown()).optional(),
  with: z.record(z.string(), z.unknown()).optional(),
});
const jobSchema = z.object({
  needs: z.union([z.string(), z.array(z.string())]).optional(),
  if: z.string().optional(),
  environment: z.string().optional(),
  permissions: z.unknown().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  steps: z.array(stepSchema),
});
const workflowSchema = z.object({
  name: z.string(),
  on: z.record(z.string(), z.unknown()),
  permissions: z.record(z.string(), z.string()),
  concurrency: z.object({ group: z.string(), 'cancel-in-progress': z.boolean() }),
  jobs: z.record(z.string(), jobSchema),
});
type Step = z.infer<typeof stepSchema>;
type Workflow = z.infer<typeof workflowSchema>;

function loadWorkflow(file: string): { workflow: Workflow; text: string } {
  const text = read(`.github/workflows/${file}`);
  const doc = parseDocument(text);
  expect(doc.errors).toEqual([]);
  return { workflow: workflowSchema.parse(doc.toJS()), text };
}

const steps = (workflow: Workflow) => Object.values(workflow.jobs).flatMap((job) => job.steps);
const scriptsOf = (list: readonly Step[]) => list.map((s) => s.run ?? '').join('\n');
const scripts = (workflow: Workflow) => scriptsOf(steps(workflow));
const npmRunsOf = (list: readonly Step[]) => [...scriptsOf(list).matchAll(/\bnpm run (?:--?[\w-]+ )*([\w:.-]+)/g)].map((m) => m[1]);
const npmRuns = (workflow: Workflow) => npmRunsOf(steps(workflow));
const checkouts = (list: readonly Step[]) => list.filter((s) => s.uses?.startsWith('actions/checkout@'));
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
  ['continuous-delivery-canary.yml', ['AP_API_KEY', 'AP_POSTGRES_URL', 'REGISTRY_USERNAME', 'REGISTRY_PASSWORD', 'KUBE_CONFIG', 'CLOUDFLARE_API_TOKEN', 'CLOUDFLARE_ACCOUNT_ID']],
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
  const deliveryScripts = Object.entries(packageScripts).filter(([name]) => name.startsWith('canary:') || name.startsWith('edge:'));

  it.each(deliveryScripts)('%s runs a tools/deploy CLI that exists and has a spec in test/deploy', (name, command) => {
    const cli = /^tsx (tools\/deploy\/cli-[a-z-]+\.ts)$/.exec(command)?.[1];
    expect(cli).toBeDefined();
    expect(existsSync(`${ROOT}${cli ?? ''}`)).toBe(true);
    expect([`describe('${name}'`, `describe('npm run ${name}'`].some((title) => specs.includes(title))).toBe(true);
  });

  it('include the edge delivery steps, each its own script', () => {
    for (const name of ['edge:upload', 'edge:deploy-split', 'edge:check', 'edge:promote', 'edge:rollback', 'edge:triggers']) expect(packageScripts).toHaveProperty([name]);
  });
});

describe('workflow continuous-delivery-canary.yml', () => {
  const { workflow } = loadWorkflow('continuous-delivery-canary.yml');
  const on = z.object({
    schedule: z.array(z.object({ cron: z.string() })),
    workflow_dispatch: z.object({ inputs: z.object({ ref: z.object({ required: z.boolean(), default: z.string() }) }) }),
  }).strict().parse(workflow.on);
  const run = scripts(workflow);
  const job = (name: string) => {
    const found = workflow.jobs[name];
    if (found === undefined) throw new Error(`the workflow has no job "${name}"`);
    return found;
  };
  const gate = job('gate');
  const canary = job('canary');
  const edge = job('edge');
  const stepRunning = (list: readonly Step[], needle: string) => list.findIndex((s) => (s.run ?? '').includes(needle));

  it('runs every day at 09:00 UTC and on demand for a chosen ref', () => {
    expect(on.schedule).toEqual([{ cron: '0 9 * * *' }]);
    expect(on.workflow_dispatch.inputs.ref).toMatchObject({ required: true, default: 'main' });
  });

  it('runs the gate, then the canary, then the edge, each only once the one before succeeded', () => {
    expect(Object.keys(workflow.jobs)).toEqual(['gate', 'canary', 'edge']);
    expect(gate.needs).toBeUndefined();
    expect(canary.needs).toBe('gate');
    expect(edge.needs).toEqual(['gate', 'canary']);
    for (const each of [gate, canary, edge]) expect(each.if).toBeUndefined();
  });

  it('gates, tags, migrates, deploys the origin and delivers the edge through npm scripts, in that order', () => {
    expect(npmRuns(workflow)).toEqual([
      'canary:protected-ref',
      'migrations:lint',
      'canary:running-manifest',
      'canary:guard-nightly',
      'migrations:check',
      'canary:image-tag',
      'db:migrate',
      'canary:deploy-origin',
      'canary:sync-edge-api-key',
      'edge:upload',
      'edge:deploy-split',
      'edge:check',
      'edge:promote',
      'edge:triggers',
      'edge:rollback',
    ]);
    expect(run).toContain('tag="$(npm run --silent canary:image-tag)"');
    expect(run).toContain('npm run --silent canary:running-manifest -- --deployment canary-edge-app-canary --out running-manifest.json');
    expect(run).toContain('npm run canary:deploy-origin -- --image "$IMAGE" --version "$AP_VERSION"');
  });

  it('keeps a release-branch canary only from the nightly run, checking the image the cluster reported', () => {
    const guard = steps(workflow).find((s) => (s.run ?? '').includes('canary:guard-nightly'));
    expect(guard?.if).toBe("github.event_name == 'schedule'");
    expect(guard?.env).toEqual({ RUNNING_IMAGE: '${{ steps.running.outputs.image }}' });
    expect(guard?.run).toBe('npm run canary:guard-nightly -- --running-image "$RUNNING_IMAGE"');
  });

  it('gates on the running canary manifest before building, migrating or deploying', () => {
    const order = ['canary:running-manifest', 'migrations:check -- --running-manifest running-manifest.json', 'docker/build-push-action', 'npm run db:migrate', 'canary:deploy-origin', 'edge:upload'];
    const positions = order.map((needle) => steps(workflow).findIndex((s) => `${s.run ?? ''}${s.uses ?? ''}`.includes(needle)));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(stepRunning(gate.steps, 'migrations:check')).toBeGreaterThanOrEqual(0);
    expect(gate.steps.some((s) => s.uses?.startsWith('docker/build-push-action') || (s.run ?? '').includes('db:migrate'))).toBe(false);
  });

  describe('refuses refs that are not protected', () => {
    const refAt = stepRunning(gate.steps, 'canary:protected-ref');
    const refStep = gate.steps[refAt];

    it('resolves the ref input with main\'s canary:protected-ref, which allows only main, release-* and v*', () => {
      expect(refStep?.id).toBe('ref');
      expect(refStep?.run).toContain('ref="$(npm run --silent canary:protected-ref -- --ref "$BUILD_REF" --dispatch-ref "$DISPATCH_REF" --dispatch-ref-protected "$DISPATCH_REF_PROTECTED")"');
      expect(refStep?.run).toContain('echo "ref=${ref}" >> "$GITHUB_OUTPUT"');
    });

    it('refuses a run dispatched from an unprotected ref, using github.ref_protected', () => {
      expect(refStep?.env).toEqual({ DISPATCH_REF: '${{ github.ref }}', DISPATCH_REF_PROTECTED: '${{ github.ref_protected }}' });
    });

    it('decides before anything of the ref is checked out, with main\'s code', () => {
      const [first, ...later] = checkouts(gate.steps);
      expect(first?.with).toEqual({ ref: 'main', 'fetch-depth': 0 });
      expect(gate.steps.indexOf(first ?? {})).toBeLessThan(refAt);
      for (const checkout of later) expect(gate.steps.indexOf(checkout)).toBeGreaterThan(refAt);
    });

    it('checks out only the resolved ref, and later jobs only the commit the gate judged', () => {
      const refs = Object.entries(workflow.jobs).flatMap(([name, each]) => checkouts(each.steps).map((s) => [name, s.with?.ref]));
      expect(refs).toEqual([
        ['gate', 'main'],
        ['gate', '${{ steps.ref.outputs.ref }}'],
        ['canary', '${{ needs.gate.outputs.commit }}'],
        ['edge', '${{ needs.gate.outputs.commit }}'],
      ]);
      expect(gate.outputs).toEqual({ commit: '${{ steps.build.outputs.commit }}' });
      expect(checkouts(gate.steps)[1]?.id).toBe('build');
    });
  });

  describe('runs the breaking-migration gate with main\'s tooling, so a ref cannot weaken its own gate', () => {
    const buildAt = gate.steps.findIndex((s) => s.id === 'build');
    const build = gate.steps[buildAt];

    it('takes only the migration files of the ref under test, into build/', () => {
      expect(build?.with).toEqual({ ref: '${{ steps.ref.outputs.ref }}', path: 'build', 'sparse-checkout': 'migrations' });
    });

    it('installs and runs main\'s code only: no npm step runs inside build/ or installs after it is checked out', () => {
      expect(gate.steps.filter((s) => s['working-directory'] !== undefined)).toEqual([]);
      const installs = gate.steps.map((s, i) => [i, s.run ?? ''] as const).filter(([, line]) => /\bnpm ci\b/.test(line)).map(([i]) => i);
      expect(installs).toHaveLength(1);
      expect(installs[0]).toBeLessThan(buildAt);
    });

    it('lints and checks the ref\'s migrations from there', () => {
      const gateRun = scriptsOf(gate.steps);
      expect(gateRun).toContain('npm run migrations:lint -- --migrations-dir build/migrations');
      expect(gateRun).toContain('npm run migrations:check -- --running-manifest running-manifest.json --migrations-dir build/migrations');
      expect(stepRunning(gate.steps, 'migrations:lint')).toBeGreaterThan(buildAt);
      expect(npmRunsOf(canary.steps)).not.toContain('migrations:check');
      expect(npmRunsOf(canary.steps)).not.toContain('migrations:lint');
    });
  });

  describe('delivers the edge Worker through a 10% split, a check, then promotion or rollback', () => {
    const at = (needle: string) => stepRunning(edge.steps, needle);
    const stepOf = (needle: string) => edge.steps[at(needle)];
    const productionWorker = /\[env\.production\]\nname = "([^"]+)"/.exec(read('wrangler.toml'))?.[1];

    it('never runs wrangler deploy: the old all-at-once `npm run deploy` is gone', () => {
      expect(npmRuns(workflow)).not.toContain('deploy');
      expect(run).not.toMatch(/npm run deploy\b/);
    });

    it('syncs the API key, uploads, splits 10%, checks, promotes, then applies routes, in that order', () => {
      expect(npmRunsOf(edge.steps)).toEqual(['canary:sync-edge-api-key', 'edge:upload', 'edge:deploy-split', 'edge:check', 'edge:promote', 'edge:triggers', 'edge:rollback']);
      const order = ['canary:sync-edge-api-key', 'edge:upload', 'edge:deploy-split', 'edge:check', 'edge:promote', 'edge:triggers'].map(at);
      expect([...order].sort((a, b) => a - b)).toEqual(order);
      expect(run).toContain('version="$(npm run --silent edge:upload -- --env production --tag "$AP_VERSION")"');
      expect(run).toContain('previous="$(npm run --silent edge:deploy-split -- --env production --new "$NEW_VERSION" --percent 10)"');
      expect(stepOf('edge:upload')?.env).toEqual({ AP_VERSION: '${{ needs.canary.outputs.tag }}' });
      expect(canary.outputs).toEqual({ tag: '${{ steps.tag.outputs.tag }}' });
    });

    it('checks the new version against the one it split with, over a configurable window', () => {
      const check = stepOf('edge:check');
      expect(check?.env).toEqual({
        NEW_VERSION: '${{ steps.upload.outputs.version }}',
        OLD_VERSION: '${{ steps.split.outputs.previous }}',
        EDGE_CHECK_WINDOW: "${{ vars.EDGE_CHECK_WINDOW || '10m' }}",
        EDGE_CHECK_MIN_REQUESTS: "${{ vars.EDGE_CHECK_MIN_REQUESTS || '200' }}",
      });
      expect(check?.run).toBe(`npm run edge:check -- --worker ${productionWorker ?? '?'} --new "$NEW_VERSION" --old "$OLD_VERSION" --window "$EDGE_CHECK_WINDOW" --min-requests "$EDGE_CHECK_MIN_REQUESTS"`);
      expect(stepOf('edge:upload')?.id).toBe('upload');
      expect(stepOf('edge:deploy-split')?.id).toBe('split');
    });

    it('promotes only after a passing check (no condition: a failed step before it skips it)', () => {
      const promote = stepOf('edge:promote');
      expect(promote?.id).toBe('promote');
      expect(promote?.if).toBeUndefined();
      expect(promote?.run).toBe('npm run edge:promote -- --env production --new "$NEW_VERSION"');
      expect(stepOf('edge:check')?.if).toBeUndefined();
    });

    it('rolls back to the previous version whenever traffic was split and the new version was not promoted', () => {
      const rollback = stepOf('edge:rollback');
      expect(at('edge:rollback')).toBe(edge.steps.length - 1);
      expect(rollback?.if).toBe("(failure() || cancelled()) && steps.split.outcome == 'success' && steps.promote.outcome != 'success'");
      expect(rollback?.env).toMatchObject({ OLD_VERSION: '${{ steps.split.outputs.previous }}' });
      expect(rollback?.run).toContain('npm run edge:rollback -- --env production --to "$OLD_VERSION" --message "$ROLLBACK_MESSAGE"');
    });

    it('targets the production Worker of wrangler.toml, and its environment in every edge step', () => {
      expect(productionWorker).toBe('canary-edge-production');
      for (const line of scriptsOf(edge.steps).split('\n').filter((l) => /npm run (?:--silent )?edge:(?!check)/.test(l))) expect(line).toContain('--env production');
    });
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
