import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { parseCanaryTag } from './image-tag.js';

// npm run canary:validate-tag -- --tag <tag>: exit 0 for <version>.<sha>.canary, exit 2 naming the form otherwise.
// The rollback workflow runs it first, so a mistyped input fails before anything touches the registry or database.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { tag: { type: 'string' } },
    z.object({ tag: z.string({ error: 'is required (e.g. 0.1.0.abc1234.canary)' }) }),
    'npm run canary:validate-tag -- --tag <version>.<sha>.canary',
  );
  const { version, sha } = parseCanaryTag(args.tag);
  console.log(`ok: ${args.tag} is version ${version} built from commit ${sha}`);
  return ExitCode.ok;
});
