import { CommanderError } from 'commander';
import { CliError, describeError } from './cli-error.js';
import { ExitCode } from './exit-code.js';

/** The body of a CLI: resolves with its exit code (nothing means 0) or throws; `argv` excludes node and the script. */
export type CliMain = (argv: string[]) => Promise<number | void>;

/**
 * Runs a CLI body and sets `process.exitCode`: the code it returned; a CliError's code after printing
 * `error: <message>`; 0 after help was shown; 1 after printing `error: <message>` for anything else. Never prints a
 * stack and never calls `process.exit`, so pending output is flushed.
 */
export function runCli(main: CliMain, argv: readonly string[] = process.argv.slice(2)): void {
  main([...argv]).then(
    (code) => {
      process.exitCode = code ?? ExitCode.ok;
    },
    (error: unknown) => {
      process.exitCode = reportError(error);
    },
  );
}

/** Prints a thrown value the way runCli does and returns the exit code for it. */
export function reportError(error: unknown): number {
  if (error instanceof CliError) {
    console.error(`error: ${error.message}`);
    return error.exitCode;
  }
  // Only help and version reach here as commander errors (see CliCommand): their text is already on stdout.
  if (error instanceof CommanderError) return error.exitCode;
  console.error(`error: ${describeError(error)}`);
  return ExitCode.failed;
}
