import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CliError, createProgram, ExitCode, parseArgv, UsageError, validateOptions } from '../../tools/cli/index.js';
import { runTsCli } from '../migrations/support/cli.js';

const program = () => createProgram('npm run demo', 'A demo.')
  .usage('-- --name <name> [--dry-run] [--count <n>]')
  .option('--name <name>', 'what to act on')
  .option('--dry-run', 'change nothing')
  .option('--count <n>', 'how many');
const SCHEMA = z.object({
  name: z.string({ error: 'is required (what to act on)' }),
  dryRun: z.boolean().default(false),
  count: z.string().regex(/^\d+$/, 'must be a whole number').transform(Number).default(1),
});
const USAGE = 'usage: npm run demo -- --name <name> [--dry-run] [--count <n>]';

function thrown(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('the CLI kit (tools/cli)', () => {
  it('parses flags with commander and validates them with zod, camelCase keys and defaults applied', () => {
    expect(parseArgv(program(), ['--name', 'x', '--dry-run'], SCHEMA)).toEqual({ name: 'x', dryRun: true, count: 1 });
    expect(parseArgv(program(), ['--name=-', '--count', '3'], SCHEMA)).toEqual({ name: '-', dryRun: false, count: 3 });
  });

  it('takes a value that starts with a dash, or is empty, as the value of the flag before it', () => {
    expect(parseArgv(program(), ['--name', '-'], SCHEMA).name).toBe('-');
    expect(parseArgv(program(), ['--name', ''], SCHEMA).name).toBe('');
  });

  it.each([
    ['an unknown flag', ['--name', 'x', '--force'], "unknown option '--force'"],
    ['a misspelt flag, suggesting the right one', ['--nmae', 'x'], "unknown option '--nmae'\n(Did you mean --name?)"],
    ['a flag without its value', ['--name'], "option '--name <name>' argument missing"],
    ['an argument no flag takes', ['--name', 'x', 'extra'], 'too many arguments. Expected 0 arguments but got 1.'],
  ])('turns %s into a UsageError (exit 2) with the usage line', (_case, argv, message) => {
    const error = thrown(() => parseArgv(program(), argv, SCHEMA));
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({ exitCode: ExitCode.usage, message: `${message}\n${USAGE}` });
  });

  it('names each flag zod refuses, with the usage line', () => {
    const error = thrown(() => parseArgv(program(), ['--count', 'many'], SCHEMA));
    expect(error).toMatchObject({ exitCode: 2, message: `--name: is required (what to act on); --count: must be a whole number\n${USAGE}` });
  });

  it('gives a subcommand its own usage line, for usage errors from commander and from validateOptions', async () => {
    const operator = () => {
      const root = createProgram('canary-edge', 'Operator CLI.');
      root.command('pause').description('Pause a platform.').option('--platform <id>', 'the platform').action((_options, command: Command) => {
        validateOptions(command, z.object({ platform: z.string({ error: 'is required' }) }));
      });
      return root;
    };
    await expect(operator().parseAsync(['pause', '--nope'], { from: 'user' })).rejects.toMatchObject({ exitCode: 2, message: "unknown option '--nope'\nusage: canary-edge pause [options]" });
    await expect(operator().parseAsync(['pause'], { from: 'user' })).rejects.toMatchObject({ exitCode: 2, message: '--platform: is required\nusage: canary-edge pause [options]' });
    await expect(operator().parseAsync(['resume'], { from: 'user' })).rejects.toBeInstanceOf(UsageError);
  });

  it('prints help on stdout and ends with exit code 0, not an error', () => {
    let help = '';
    const error = thrown(() => program().configureOutput({ writeOut: (text) => (help += text) }).parse(['--help'], { from: 'user' }));
    expect(error).not.toBeInstanceOf(CliError);
    expect(error).toMatchObject({ exitCode: 0 });
    expect(help).toContain('Usage: npm run demo -- --name <name> [--dry-run] [--count <n>]');
    expect(help).toContain('--dry-run');
  });

  describe('runCli', () => {
    const fixture = (args: readonly string[]) => runTsCli('test/deploy/support/kit-fixture.ts', args);

    it('exits with the code the body returns, 0 when it returns nothing', async () => {
      expect(await fixture(['--return', '3'])).toMatchObject({ code: 3, stderr: '' });
      expect(await fixture([])).toMatchObject({ code: 0, stderr: '' });
    });

    it('prints a CliError as one "error:" line, no stack, and exits with its code', async () => {
      expect(await fixture(['--throw-cli', '4'])).toMatchObject({ code: 4, stdout: '', stderr: 'error: the tool refused, naming the fix\n' });
    });

    it('prints any other error as one "error:" line and exits 1', async () => {
      expect(await fixture(['--throw-plain'])).toMatchObject({ code: 1, stderr: 'error: something nobody expected\n' });
    });

    it('prints a usage error with the usage line and exits 2', async () => {
      expect(await fixture(['--bogus'])).toMatchObject({ code: 2, stderr: "error: unknown option '--bogus'\nusage: kit-fixture [--return <code>] [--throw-cli <code>] [--throw-plain]\n" });
    });

    it('prints help and exits 0', async () => {
      const result = await fixture(['--help']);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toContain('Ends the way its flags say.');
    });
  });
});
