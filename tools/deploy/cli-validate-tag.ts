import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { parseCanaryTag } from './image-tag.js';

const program = createProgram('npm run canary:validate-tag', 'Exit 0 for <version>.<sha>.canary, exit 2 naming the form otherwise.')
  .usage('-- --tag <version>.<sha>.canary')
  .option('--tag <tag>', 'the canary image tag to check');

// The rollback workflow runs it first, so a mistyped input fails before anything touches the registry or database.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ tag: z.string({ error: 'is required (e.g. 0.1.0.abc1234.canary)' }) }));
  const { version, sha } = parseCanaryTag(args.tag);
  console.log(`ok: ${args.tag} is version ${version} built from commit ${sha}`);
  return ExitCode.ok;
});
