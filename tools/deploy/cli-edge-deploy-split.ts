import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli, UsageError } from '../cli/index.js';
import { messageSchema, requiredWranglerEnvSchema, versionIdSchema } from './edge-flags.js';
import { deploySplit, readStableVersion } from './edge-versions.js';

const program = createProgram('npm run -s edge:deploy-split', 'Sends a share of edge traffic to a new version; the version serving the rest is printed.')
  .usage('-- --env <env> --new <version-id> [--percent 10] [--message <text>]')
  .option('--env <env>', 'the wrangler environment, e.g. production')
  .option('--new <version-id>', 'the version edge:upload printed')
  .option('--percent <n>', 'its share of traffic, 1-99 (default 10)')
  .option('--message <text>', 'a note on the deployment');

// The version that served all traffic before the split is the one to go back to, so it is printed (and only it, on
// stdout) for the workflow's check and rollback steps.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    env: requiredWranglerEnvSchema,
    new: versionIdSchema('the version edge:upload printed'),
    percent: z.string().regex(/^[1-9]\d?$/, 'must be a whole percentage from 1 to 99').transform(Number).default(10),
    message: messageSchema.optional(),
  }));
  const previous = await readStableVersion(args.env);
  if (previous === args.new) throw new UsageError(`${args.new} already serves all edge traffic (--env ${args.env}); upload a new version first (npm run -s edge:upload)`);
  await deploySplit({
    env: args.env,
    newVersion: args.new,
    oldVersion: previous,
    percent: args.percent,
    message: args.message ?? `edge canary: ${args.percent}% to ${args.new}`,
  });
  console.error(`edge (--env ${args.env}): ${args.new} serves ${args.percent}% of traffic, ${previous} the other ${100 - args.percent}%`);
  console.log(previous);
  return ExitCode.ok;
});
