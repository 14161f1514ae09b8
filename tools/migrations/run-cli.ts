import { describeError, ExitCode, MigrationToolError } from './errors.js';

/** Runs a CLI body, printing known errors as one line and setting the documented exit code. */
export function runCli(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof MigrationToolError) {
        console.error(`error: ${error.message}`);
        process.exitCode = error.exitCode;
        return;
      }
      console.error(`error: ${describeError(error)}`);
      process.exitCode = ExitCode.failed;
    },
  );
}
