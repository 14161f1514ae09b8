import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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

// The local tsx binary rather than `npx tsx`: no npm process per call, and nothing on PATH ahead of a test's stand-ins.
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));

/** Runs a TypeScript CLI of this repository (`tsx <script>`) as a real child process from the repository root. */
export function runTsCli(script: string, args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(TSX, [script, ...args], {
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
