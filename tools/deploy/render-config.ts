import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { UsageError } from '../cli/index.js';

/** The values substituted into a deploy config: `${IMAGE}` and `${AP_VERSION}`. */
export interface DeployValues {
  image: string;
  version: string;
}

/** A rendered config and the Deployments it declares. */
export interface RenderedConfig {
  source: string;
  text: string;
  deployments: string[];
}

const PLACEHOLDER = /\$\{([^}\n]*)\}?/g;

const deploymentSchema = z.object({
  metadata: z.object({ name: z.string().min(1) }),
  spec: z.object({
    template: z.object({
      spec: z.object({
        containers: z.array(z.object({
          name: z.string(),
          image: z.unknown(),
          env: z.array(z.object({ name: z.string(), value: z.unknown().optional() })).optional(),
        })).min(1),
      }),
    }),
  }),
});

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

/** Substitutes exactly `${IMAGE}` and `${AP_VERSION}` in a deploy config; any other `${…}` is refused. */
export function substitutePlaceholders(text: string, values: DeployValues, source: string): string {
  // Checked on the template, not the output, so a finding always points at a line of the config file.
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match[1] === 'IMAGE' || match[1] === 'AP_VERSION') continue;
    throw new UsageError(`${source}:${lineOf(text, match.index)}: unresolved placeholder ${match[0]}; only \${IMAGE} and \${AP_VERSION} are substituted. Write the value into the config (secrets via secretKeyRef), or add the variable to tools/deploy/render-config.ts`);
  }
  return text.replaceAll('${IMAGE}', values.image).replaceAll('${AP_VERSION}', values.version);
}

/** Parses a rendered config and checks every Deployment runs `values.image` with AP_VERSION set; returns their names. */
export function validateRenderedConfig(rendered: string, values: DeployValues, source: string): string[] {
  const deployments: string[] = [];
  for (const doc of parseAllDocuments(rendered)) {
    const [error] = doc.errors;
    if (error) throw new UsageError(`${source} is not valid YAML once rendered: ${error.message}`);
    const json: unknown = doc.toJS();
    if (typeof json !== 'object' || json === null || !('kind' in json) || json.kind !== 'Deployment') continue;
    const parsed = deploymentSchema.safeParse(json);
    if (!parsed.success) throw new UsageError(`${source}: a Deployment lacks ${parsed.error.issues[0]?.path.join('.') ?? 'a required field'}`);
    const { metadata, spec } = parsed.data;
    for (const container of spec.template.spec.containers) {
      const where = `${source}: container ${container.name} of Deployment ${metadata.name}`;
      if (container.image !== values.image) throw new UsageError(`${where} runs image ${JSON.stringify(container.image)}, not ${values.image}; write image: \${IMAGE}`);
      const version = container.env?.find((variable) => variable.name === 'AP_VERSION')?.value;
      if (version !== values.version) throw new UsageError(`${where} sets AP_VERSION to ${JSON.stringify(version)}, not ${values.version}; write - { name: AP_VERSION, value: "\${AP_VERSION}" }`);
    }
    deployments.push(metadata.name);
  }
  if (deployments.length === 0) throw new UsageError(`${source} declares no Deployment, so nothing would run ${values.image}`);
  return deployments;
}

/** Renders one deploy config and validates the result. */
export function renderConfig(text: string, values: DeployValues, source: string): RenderedConfig {
  const rendered = substitutePlaceholders(text, values, source);
  return { source, text: rendered, deployments: validateRenderedConfig(rendered, values, source) };
}

/** The rendered configs as one multi-document YAML stream, each headed by its source (what --dry-run prints). */
export function formatRendered(configs: readonly RenderedConfig[]): string {
  return configs.map((config) => `---\n# Source: ${config.source}\n${config.text.endsWith('\n') ? config.text : `${config.text}\n`}`).join('');
}
