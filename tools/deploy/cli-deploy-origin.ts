import { resolve } from 'node:path';
import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { applyAndWait, DEFAULT_CONFIG_DIR, renderCanaryConfigs } from './deploy-origin.js';
import { formatRendered } from './render-config.js';

const program = createProgram('npm run canary:deploy-origin', 'Deploys the canary app and workers on one image and waits for both rollouts.')
  .usage('-- --image <registry/repository:tag> --version <tag> [--timeout 10m] [--dry-run] [--config-dir config]')
  .option('--image <image>', 'the image to run, registry/repository:tag')
  .option('--version <tag>', "the image's tag, e.g. 0.1.0.abc1234.canary (the apps report it as AP_VERSION)")
  .option('--timeout <duration>', 'how long to wait for each rollout (default 10m)')
  .option('--dry-run', 'print the rendered manifests; touch no cluster')
  .option('--config-dir <dir>', 'where app-canary.yml and worker-canary.yml live (default: config/)');

// Renders config/app-canary.yml and config/worker-canary.yml for one image, applies them with kubectl and waits for
// both rollouts. --dry-run prints the rendered manifests and touches no cluster.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    image: z.string({ error: 'is required (registry/repository:tag)' }).min(1),
    version: z.string({ error: 'is required (the image tag, e.g. 0.1.0.abc1234.canary)' }).min(1),
    timeout: z.string().regex(/^\d+[smh]$/, 'must be a duration such as 600s, 10m or 1h').default('10m'),
    dryRun: z.boolean().default(false),
    configDir: z.string().min(1).optional(),
  }));
  const configDir = args.configDir === undefined ? DEFAULT_CONFIG_DIR : resolve(args.configDir);
  const configs = await renderCanaryConfigs({ image: args.image, version: args.version }, configDir);
  if (args.dryRun) {
    process.stdout.write(formatRendered(configs));
    return ExitCode.ok;
  }
  await applyAndWait(configs, args.timeout);
  const deployments = configs.flatMap((config) => config.deployments);
  console.log(`deployed ${args.image}: ${deployments.map((name) => `deployment/${name}`).join(', ')} rolled out`);
  return ExitCode.ok;
});
