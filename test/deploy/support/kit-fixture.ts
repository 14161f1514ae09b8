import { z } from 'zod';
import { CliError, createProgram, parseArgv, runCli } from '../../../tools/cli/index.js';

// A CLI built on the kit whose outcome its flags choose, so the kit's exit codes and output can be specified.
const program = createProgram('kit-fixture', 'Ends the way its flags say.')
  .usage('[--return <code>] [--throw-cli <code>] [--throw-plain]')
  .option('--return <code>', 'exit with this code')
  .option('--throw-cli <code>', 'throw a CliError with this exit code')
  .option('--throw-plain', 'throw an Error the kit does not know');

runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    return: z.string().transform(Number).optional(),
    throwCli: z.string().transform(Number).optional(),
    throwPlain: z.boolean().default(false),
  }));
  if (args.throwCli !== undefined) throw new CliError('the tool refused, naming the fix', args.throwCli);
  if (args.throwPlain) throw new Error('something nobody expected');
  return args.return;
});
