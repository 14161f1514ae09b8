import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { messageSchema, requiredWranglerEnvSchema, versionTagSchema } from './edge-flags.js';
import { uploadVersion } from './edge-versions.js';

const program = createProgram('npm run -s edge:upload', 'Uploads the edge Worker as a new version that serves no traffic yet and prints its version id.')
  .usage('-- --env <env> [--tag <tag>] [--message <text>]')
  .option('--env <env>', 'the wrangler environment, e.g. production')
  .option('--tag <tag>', 'a label for the version, e.g. the canary image tag')
  .option('--message <text>', 'a note on the version (one line, at most 100 characters)');

// Prints the version id and nothing else on stdout (wrangler's output goes to stderr), so a workflow can capture it.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    env: requiredWranglerEnvSchema,
    tag: versionTagSchema.optional(),
    message: messageSchema.optional(),
  }));
  const version = await uploadVersion(args);
  console.error(`uploaded edge version ${version} (--env ${args.env}); it serves no traffic until edge:deploy-split`);
  console.log(version);
  return ExitCode.ok;
});
