import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { messageSchema, requiredWranglerEnvSchema, versionIdSchema } from './edge-flags.js';
import { promoteVersion } from './edge-versions.js';

const program = createProgram('npm run edge:promote', 'Sends all edge traffic to a version (after edge:check found it healthy).')
  .usage('-- --env <env> --new <version-id> [--message <text>]')
  .option('--env <env>', 'the wrangler environment, e.g. production')
  .option('--new <version-id>', 'the version to promote')
  .option('--message <text>', 'a note on the deployment');

runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    env: requiredWranglerEnvSchema,
    new: versionIdSchema('the version to promote'),
    message: messageSchema.optional(),
  }));
  await promoteVersion(args.env, args.new, args.message ?? `edge promoted: ${args.new}`);
  console.log(`edge (--env ${args.env}): ${args.new} serves 100% of traffic`);
  return ExitCode.ok;
});
