import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli, UsageError } from '../cli/index.js';
import { wranglerEnvSchema } from './edge-flags.js';
import { CommandFailedError, mustRun, runCommand } from './run-command.js';

const program = createProgram('AP_API_KEY=... npm run canary:sync-edge-api-key', "Stores the primary app's AP_API_KEY as the edge Worker's secret.")
  .usage('[-- --env production]')
  .option('--env <env>', 'the wrangler environment (default production)');

const CREDENTIALS_FIX = 'the edge keeps its previous AP_API_KEY; check CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID';
// wrangler refuses `secret put` (API code 10215) while the newest version is not the one deployed, which is exactly
// the state an edge rollback leaves (the rolled-back version stays the newest).
const LATEST_NOT_DEPLOYED = "the latest version of your Worker isn't currently deployed";

// The edge and the primary app hold the same AP_API_KEY (a contract rule). The key comes from the environment and
// reaches wrangler on stdin, never on a command line where process listings and logs would show it.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({ env: wranglerEnvSchema.default('production') }));
  const key = process.env.AP_API_KEY ?? '';
  if (key.trim() === '') throw new UsageError('AP_API_KEY is not set; export the primary app\'s API key (in the workflow: env AP_API_KEY: ${{ secrets.AP_API_KEY }})');
  const command = ['secret', 'put', 'AP_API_KEY', '--env', args.env];
  const put = await runCommand('wrangler', command, { input: key, echoStdout: 'stdout' });
  if (put.code === 0) {
    console.log(`AP_API_KEY is set on the edge Worker (--env ${args.env})`);
    return ExitCode.ok;
  }
  if (!put.stderr.includes(LATEST_NOT_DEPLOYED)) throw new CommandFailedError(['wrangler', ...command], put.code, CREDENTIALS_FIX);
  // The next edge:upload inherits the secrets of the newest version, so storing the key on a new undeployed version
  // carries it into the release that follows (live once that release is promoted).
  await mustRun('wrangler', ['versions', 'secret', 'put', 'AP_API_KEY', '--env', args.env], CREDENTIALS_FIX, { input: key, echoStdout: 'stdout' });
  console.log(`AP_API_KEY is stored on a new, undeployed version of the edge Worker (--env ${args.env}): the newest version is not the deployed one (an edge rollout was rolled back). The next edge:upload inherits it; it is live once that version is promoted.`);
  return ExitCode.ok;
});
