import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../cli/index.js';
import { assertCanaryImage } from './image-tag.js';
import { renderConfig, type DeployValues, type RenderedConfig } from './render-config.js';
import { mustRun } from './run-command.js';

/** The canary configs, applied in this order: the app first, so new workers find their app's Service. */
export const CANARY_CONFIGS = ['app-canary.yml', 'worker-canary.yml'] as const;

/** The repository's config directory. */
export const DEFAULT_CONFIG_DIR = fileURLToPath(new URL('../../config/', import.meta.url));

/** Reads and renders the canary configs in `configDir` for `values`, validating each before anything is applied. */
export async function renderCanaryConfigs(values: DeployValues, configDir = DEFAULT_CONFIG_DIR): Promise<RenderedConfig[]> {
  assertCanaryImage(values.image, values.version);
  const configs: RenderedConfig[] = [];
  for (const name of CANARY_CONFIGS) {
    const path = join(configDir, name);
    const source = relative(process.cwd(), path) || path;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read deploy config ${source}: ${error instanceof Error ? error.message : String(error)}`);
    }
    configs.push(renderConfig(text, values, source));
  }
  return configs;
}

/** Applies each rendered config with `kubectl apply -f -`, then waits for every Deployment's rollout. */
export async function applyAndWait(configs: readonly RenderedConfig[], timeout: string): Promise<void> {
  const applied: string[] = [];
  for (const config of configs) {
    const kept = applied.length === 0 ? 'nothing was applied' : `${applied.join(', ')} stayed applied`;
    await mustRun('kubectl', ['apply', '-f', '-'], `${config.source} was not applied and ${kept}; no rollout was awaited. Fix the cause above and rerun`, { input: config.text, echoStdout: 'stdout' });
    applied.push(config.source);
  }
  for (const deployment of configs.flatMap((config) => config.deployments)) {
    await mustRun(
      'kubectl',
      ['rollout', 'status', `deployment/${deployment}`, `--timeout=${timeout}`],
      `deployment/${deployment} did not finish rolling out within ${timeout}. Inspect it (kubectl describe deployment/${deployment}), then roll the canary back with the Continuous Delivery — Rollback Canary workflow or fix forward`,
      { echoStdout: 'stdout' },
    );
  }
}
