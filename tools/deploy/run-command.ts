import { spawn } from 'node:child_process';
import { CliError, ExitCode } from '../cli/index.js';

/** What a finished command returned. */
export interface CommandResult {
  code: number;
  stdout: string;
  /** Also passed through to our stderr as it arrives. */
  stderr: string;
}

/** Options of runCommand. */
export interface RunCommandOptions {
  /** Written to the command's stdin, which is then closed (closed empty when absent, so nothing waits on a terminal). */
  input?: string;
  /**
   * Also pass the command's stdout through, for commands whose progress the operator should see: to our stdout, or to
   * our stderr when our own stdout is a value a workflow captures.
   */
  echoStdout?: 'stdout' | 'stderr';
}

/** A command exited non-zero; its stderr was already passed through, so the message only adds the fix. */
export class CommandFailedError extends CliError {
  constructor(command: readonly string[], code: number, fix: string) {
    super(`\`${command.join(' ')}\` exited with code ${code}: ${fix}`, ExitCode.failed);
  }
}

/**
 * Runs `command args` without a shell and resolves with its exit code, stdout and stderr. Its stderr is also passed
 * through to ours (warnings, pull progress and error text stay visible in the workflow log). Rejects only when it
 * cannot start.
 */
export function runCommand(command: string, args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      if (options.echoStdout !== undefined) process[options.echoStdout].write(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
      process.stderr.write(chunk);
    });
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(error.code === 'ENOENT'
        ? new CliError(`${command} is not on PATH; install it (the GitHub ubuntu runners ship kubectl, docker and git; wrangler comes with npm ci, and npm run puts it on PATH)`)
        : error);
    });
    // A command killed by a signal has no exit code; it still failed.
    child.once('close', (code) => resolve({ code: code ?? ExitCode.failed, stdout, stderr }));
    // A command that exits without reading its input must not crash us with EPIPE; its exit code tells the story.
    child.stdin.once('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

/** Runs a command and throws CommandFailedError (with `fix`) unless it exits 0; resolves with its stdout. */
export async function mustRun(command: string, args: readonly string[], fix: string, options: RunCommandOptions = {}): Promise<string> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) throw new CommandFailedError([command, ...args], result.code, fix);
  return result.stdout;
}
