/**
 * The CLI kit: what every command-line tool of this repository (tools/migrations, tools/deploy, and operator CLIs)
 * is built on, so they share flags parsing, error output and exit codes.
 *
 *   const program = createProgram('npm run canary:thing', 'What it does.')
 *     .usage('-- --name <name> [--dry-run]')
 *     .option('--name <name>', 'what to act on')
 *     .option('--dry-run', 'print, change nothing');
 *   runCli(async (argv) => {
 *     const args = parseArgv(program, argv, z.object({ name: z.string({ error: 'is required' }), dryRun: z.boolean().default(false) }));
 *     if (broken) throw new CliError('what failed and how to fix it', MyExitCode.refused);
 *     return ExitCode.ok;
 *   });
 *
 * - `createProgram(name, description)`: a commander Command (CliCommand) that throws instead of exiting. Declare
 *   options with commander; validate their values with zod through `parseArgv` (single command) or
 *   `validateOptions(command, schema)` inside a subcommand's action (`program.command('pause')…action(async (_o, cmd)
 *   => …)`, then `await program.parseAsync(argv, { from: 'user' })` in runCli). Option keys are camelCase.
 * - Usage errors (unknown flag, missing value, excess argument, unknown subcommand, a zod issue) are `UsageError`s,
 *   exit 2, printed as `error: <what>` and `usage: <that command's usage line>`.
 * - `runCli(main)`: runs the body and sets `process.exitCode` to what it returns (nothing = 0). A thrown `CliError`
 *   prints `error: <message>` (no stack) and exits with its code; `--help` prints help and exits 0; anything else
 *   prints `error: <message>` and exits 1.
 * - `ExitCode`: 0 ok, 1 failed, 2 usage. Tools add their own documented codes from 3 up.
 */
export { ExitCode } from './exit-code.js';
export { CliError, UsageError, describeError } from './cli-error.js';
export { runCli, type CliMain } from './run-cli.js';
export { CliCommand, createProgram, parseArgv, validateOptions, usageLine } from './program.js';
export { durationSchema, formatDuration } from './duration.js';
