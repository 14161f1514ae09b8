import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { formatCanaryTag, parseGitSha } from './image-tag.js';
import { mustRun } from './run-command.js';

const PACKAGE_JSON = new URL('../../package.json', import.meta.url);

const program = createProgram('npm run -s canary:image-tag', 'Prints <version>.<sha7>.canary for HEAD (version from package.json).');

// Prints the tag and nothing else, so a workflow can capture it with $(...).
runCli(async (argv) => {
  parseArgv(program, argv, z.object({}));
  const { version } = z.object({ version: z.string() }).parse(JSON.parse(await readFile(PACKAGE_JSON, 'utf8')));
  const sha = parseGitSha(await mustRun('git', ['rev-parse', '--verify', 'HEAD'], 'run from a git checkout with at least one commit'));
  console.log(formatCanaryTag(version, sha));
  return ExitCode.ok;
});
