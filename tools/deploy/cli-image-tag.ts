import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { formatCanaryTag, parseGitSha } from './image-tag.js';
import { mustRun } from './run-command.js';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

// npm run -s canary:image-tag: prints <version>.<sha7>.canary for HEAD (version from package.json) and nothing else,
// so a workflow can capture it with $(...).
runCli(async (argv) => {
  parseCliArgs(argv, {}, z.object({}), 'npm run -s canary:image-tag');
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(PACKAGE_JSON, 'utf8')));
  const sha = parseGitSha(await mustRun('git', ['rev-parse', '--verify', 'HEAD'], 'run from a git checkout with at least one commit'));
  console.log(formatCanaryTag(version, sha));
  return ExitCode.ok;
});
