import { Command, type CommanderError } from 'commander';
import type { z } from 'zod';
import { CliError, UsageError } from './cli-error.js';

// Help and version end the run successfully (their text is already printed); everything else commander reports about
// the command line (unknown option, missing value, excess argument, unknown subcommand, invalid argument) is a usage
// error. `commander.error` is the code of an application's own `command.error(...)` call, which keeps its exit code.
const PASSED_THROUGH = new Set(['commander.help', 'commander.helpDisplayed', 'commander.version', 'commander.executeSubCommandAsync']);

function toCliError(error: CommanderError, command: Command): Error {
  if (PASSED_THROUGH.has(error.code)) return error;
  const message = error.message.replace(/^error: /, '');
  if (error.code === 'commander.error') return new CliError(message, error.exitCode);
  return new UsageError(`${message}\nusage: ${usageLine(command)}`);
}

/**
 * A commander Command that never exits the process and never prints its own errors: command-line mistakes throw a
 * UsageError (exit 2) carrying the failing (sub)command's usage line, which runCli prints once as `error: …`.
 */
export class CliCommand extends Command {
  constructor(name?: string) {
    super(name);
    this.exitOverride((error) => {
      throw toCliError(error, this);
    });
    this.configureOutput({ outputError: () => undefined });
  }

  override createCommand(name?: string): CliCommand {
    return new CliCommand(name);
  }

  override copyInheritedSettings(sourceCommand: Command): this {
    super.copyInheritedSettings(sourceCommand);
    // The inherited exit callback would name the parent's usage; a subcommand reports its own.
    return this.exitOverride((error) => {
      throw toCliError(error, this);
    });
  }
}

/** A program for one CLI: `name` is how it is invoked (e.g. `npm run canary:deploy-origin`), shown in usage and help. */
export function createProgram(name: string, description: string): CliCommand {
  return new CliCommand(name).description(description);
}

/** `<invocation> <usage>` of a command, subcommands prefixed by their parents, e.g. `canary-edge pause [options] <id>`. */
export function usageLine(command: Command): string {
  const names: string[] = [];
  for (let current: Command | null = command; current !== null; current = current.parent) names.unshift(current.name());
  return [...names, command.usage()].filter((part) => part !== '').join(' ');
}

function flagOf(command: Command, key: PropertyKey | undefined): string {
  if (key === undefined) return 'options';
  const name = String(key);
  return command.options.find((option) => option.attributeName() === name)?.long ?? `--${name}`;
}

/**
 * Validates a parsed command's options (`command.opts()`, camelCase keys) with `schema`; a UsageError naming each
 * offending flag (`--flag: message`) and the usage line otherwise. Use it inside subcommand actions.
 */
export function validateOptions<T extends z.ZodType>(command: Command, schema: T): z.output<T> {
  const parsed = schema.safeParse(command.opts());
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((issue) => `${flagOf(command, issue.path[0])}: ${issue.message}`).join('; ');
  throw new UsageError(`${issues}\nusage: ${usageLine(command)}`);
}

/** Parses `argv` (arguments only, no node or script path) with `program`, then validates its options with `schema`. */
export function parseArgv<T extends z.ZodType>(program: Command, argv: readonly string[], schema: T): z.output<T> {
  program.parse([...argv], { from: 'user' });
  return validateOptions(program, schema);
}
