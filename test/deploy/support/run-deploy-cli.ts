import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CliResult } from '../../migrations/support/cli.js';
import type { FakeTools } from './fake-tools.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
// The local tsx binary, not `npx tsx`: npx puts node_modules/.bin first on PATH, where the real wrangler would shadow
// its stand-in.
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** Runs `tsx tools/deploy/<script>` as a real child process from the repository root, with the stand-ins on PATH. */
export function runDeployCli(script: string, args: readonly string[], tools: FakeTools, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [`tools/deploy/${script}`, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...env, PATH: tools.path },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
