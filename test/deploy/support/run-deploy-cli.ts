import { runTsCli } from '../../migrations/support/cli.js';
import type { CliResult } from '../../migrations/support/cli.js';
import type { FakeTools } from './fake-tools.js';

/** Runs `tsx tools/deploy/<script>` as a real child process with the stand-in tools first (and only) on PATH. */
export function runDeployCli(script: string, args: readonly string[], tools: FakeTools, env: Record<string, string> = {}): Promise<CliResult> {
  return runTsCli(`tools/deploy/${script}`, args, { env: { ...env, PATH: tools.path } });
}
