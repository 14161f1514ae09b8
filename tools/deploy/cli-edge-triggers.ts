import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { requiredWranglerEnvSchema } from './edge-flags.js';
import { applyTriggers } from './edge-versions.js';

const program = createProgram('npm run edge:triggers', "Applies wrangler.toml's routes for an environment (versions upload and deploy do not).")
  .usage('-- --env <env>')
  .option('--env <env>', 'the wrangler environment, e.g. production');

// `wrangler deploy` used to apply routes with the code; versioned delivery leaves them to `wrangler triggers deploy`,
// run once the new version is promoted.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ env: requiredWranglerEnvSchema }));
  await applyTriggers(args.env);
  console.log(`edge (--env ${args.env}): routes of wrangler.toml applied`);
  return ExitCode.ok;
});
