import { resolve } from 'node:path';
import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { applyAndWait, DEFAULT_CONFIG_DIR, renderCanaryConfigs } from './deploy-origin.js';
import { formatRendered } from './render-config.js';

const USAGE = 'npm run canary:deploy-origin -- --image <registry/repository:tag> --version <tag> [--timeout 10m] [--dry-run] [--config-dir config]';

// npm run canary:deploy-origin: renders config/app-canary.yml and config/worker-canary.yml for one image, applies
// them with kubectl and waits for both rollouts. --dry-run prints the rendered manifests and touches no cluster.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { image: { type: 'string' }, version: { type: 'string' }, timeout: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'config-dir': { type: 'string' } },
    z.object({
      image: z.string({ error: 'is required (registry/repository:tag)' }).min(1),
      version: z.string({ error: 'is required (the image tag, e.g. 0.1.0.abc1234.canary)' }).min(1),
      timeout: z.string().regex(/^\d+[smh]$/, 'must be a duration such as 600s, 10m or 1h').default('10m'),
      'dry-run': z.boolean().default(false),
      'config-dir': z.string().min(1).optional(),
    }),
    USAGE,
  );
  const configDir = args['config-dir'] === undefined ? DEFAULT_CONFIG_DIR : resolve(args['config-dir']);
  const configs = await renderCanaryConfigs({ image: args.image, version: args.version }, configDir);
  if (args['dry-run']) {
    process.stdout.write(formatRendered(configs));
    return ExitCode.ok;
  }
  await applyAndWait(configs, args.timeout);
  const deployments = configs.flatMap((config) => config.deployments);
  console.log(`deployed ${args.image}: ${deployments.map((name) => `deployment/${name}`).join(', ')} rolled out`);
  return ExitCode.ok;
});
