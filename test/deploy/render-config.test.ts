import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { renderCanaryConfigs } from '../../tools/deploy/deploy-origin.js';
import { formatRendered, renderConfig, substitutePlaceholders, type DeployValues } from '../../tools/deploy/render-config.js';

const VALUES: DeployValues = { image: 'ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary', version: '0.1.0.abc1234.canary' };

const deployment = (body: { image?: string; version?: string; name?: string } = {}) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${body.name ?? 'demo'}
spec:
  template:
    spec:
      containers:
        - name: app
          image: ${body.image ?? '${IMAGE}'}
          env:
            - { name: AP_VERSION, value: "${body.version ?? '${AP_VERSION}'}" }
`;

describe('rendering a deploy config', () => {
  it('substitutes exactly ${IMAGE} and ${AP_VERSION}, everywhere they appear', () => {
    const text = `# runs \${IMAGE}\n${deployment()}`;
    const rendered = renderConfig(text, VALUES, 'demo.yml');
    expect(rendered.text).toBe(`# runs ${VALUES.image}\n${deployment({ image: VALUES.image, version: VALUES.version })}`);
    expect(rendered.deployments).toEqual(['demo']);
  });

  it('leaves $IMAGE without braces and other dollar signs alone', () => {
    expect(substitutePlaceholders('a: $IMAGE\nb: $$\n', VALUES, 'demo.yml')).toBe('a: $IMAGE\nb: $$\n');
  });

  it.each([
    ['an unknown variable', '        - { name: AP_REDIS_URL, value: "${AP_REDIS_URL}" }', '${AP_REDIS_URL}'],
    ['a misspelt one', '        - { name: X, value: "${IMAGE_TAG}" }', '${IMAGE_TAG}'],
    ['an unterminated one', '        - { name: X, value: "${IMAGE" }', '${IMAGE" }'],
    ['a default expression', '        - { name: X, value: "${AP_VERSION:-dev}" }', '${AP_VERSION:-dev}'],
  ])('refuses a config with an unresolved placeholder: %s, naming file, line and fix', (_case, line, placeholder) => {
    const text = `${deployment()}${line}\n`;
    const lineNumber = text.split('\n').indexOf(line) + 1;
    expect(() => renderConfig(text, VALUES, 'config/demo.yml')).toThrow(
      `config/demo.yml:${lineNumber}: unresolved placeholder ${placeholder}; only \${IMAGE} and \${AP_VERSION} are substituted`,
    );
  });

  it('refuses a config that is not YAML once rendered', () => {
    expect(() => renderConfig(`${deployment()}  bad: [unclosed\n`, VALUES, 'demo.yml')).toThrow(/demo\.yml is not valid YAML once rendered/);
  });

  it('refuses a Deployment whose container does not run the image', () => {
    expect(() => renderConfig(deployment({ image: 'nginx:latest' }), VALUES, 'demo.yml')).toThrow(/container app of Deployment demo runs image "nginx:latest", not ghcr\.io\/.*; write image: \$\{IMAGE\}/);
  });

  it('refuses a Deployment whose container does not carry AP_VERSION', () => {
    expect(() => renderConfig(deployment({ version: '0.0.1' }), VALUES, 'demo.yml')).toThrow(/sets AP_VERSION to "0\.0\.1", not 0\.1\.0\.abc1234\.canary/);
  });

  it('refuses a config without a Deployment', () => {
    expect(() => renderConfig('apiVersion: v1\nkind: Service\nmetadata: { name: demo }\n', VALUES, 'demo.yml')).toThrow(/declares no Deployment/);
  });
});

describe('the repository canary configs', () => {
  it('render for a canary image into the app and worker Deployments, app first', async () => {
    const configs = await renderCanaryConfigs(VALUES);
    expect(configs.map((config) => [config.source, config.deployments])).toEqual([
      ['config/app-canary.yml', ['canary-edge-app-canary']],
      ['config/worker-canary.yml', ['canary-edge-worker-canary']],
    ]);
    const stream = parseAllDocuments(formatRendered(configs));
    expect(stream.flatMap((doc) => doc.errors)).toEqual([]);
    expect(stream.map((doc) => JSON.stringify(doc.toJS())).filter((json) => json.includes('"kind":"Deployment"'))).toHaveLength(2);
    expect(formatRendered(configs)).not.toContain('${');
  });

  it('are refused for an image whose tag is not the version', async () => {
    await expect(renderCanaryConfigs({ ...VALUES, version: '0.1.0.fff0000.canary' })).rejects.toThrow(/pass the image's own tag as --version/);
  });
});
