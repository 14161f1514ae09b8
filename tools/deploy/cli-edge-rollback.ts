import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { messageSchema, requiredWranglerEnvSchema, versionIdSchema } from './edge-flags.js';
import { rollbackToVersion } from './edge-versions.js';

const program = createProgram('npm run edge:rollback', 'Rolls the edge back: one earlier version serves all traffic again.')
  .usage('-- --env <env> --to <version-id> [--message <text>]')
  .option('--env <env>', 'the wrangler environment, e.g. production')
  .option('--to <version-id>', 'the version to go back to (edge:deploy-split printed it)')
  .option('--message <text>', 'why (recorded on the deployment)');

runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    env: requiredWranglerEnvSchema,
    to: versionIdSchema('the version to go back to'),
    message: messageSchema.optional(),
  }));
  await rollbackToVersion(args.env, args.to, args.message ?? `edge rolled back to ${args.to}`);
  console.log(`edge (--env ${args.env}): rolled back, ${args.to} serves 100% of traffic`);
  return ExitCode.ok;
});
