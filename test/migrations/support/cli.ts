import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { bundledCli } from '../../../testkit/cli-bundles.js';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Written to the child's stdin, which is then closed. */
  stdin?: string;
  env?: Record<string, string>;
}

/**
 * Runs a TypeScript CLI of this repository as a real child process from the repository root: node on the CLI compiled
 * by esbuild (what tsx does on every start, done once), with nothing on PATH ahead of a test's stand-ins.
 */
export async function runTsCli(script: string, args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  const bundle = await bundledCli(script);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bundle, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

/** Runs `tsx tools/migrations/<script>` as a real child process. */
export function runMigrationsCli(script: string, args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return runTsCli(`tools/migrations/${script}`, args, options);
}
