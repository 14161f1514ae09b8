import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode, UsageError } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { mustRun } from './run-command.js';

// AP_API_KEY=... npm run canary:sync-edge-api-key [-- --env production]: stores the primary app's AP_API_KEY as the
// edge Worker's secret (DESIGN §2/§3: both hold the same value). The key comes from the environment and reaches
// wrangler on stdin, never on a command line where process listings and logs would show it.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { env: { type: 'string' } },
    z.object({ env: z.string().regex(/^[a-z0-9-]+$/, 'must be a wrangler environment name').default('production') }),
    'AP_API_KEY=... npm run canary:sync-edge-api-key [-- --env production]',
  );
  const key = process.env.AP_API_KEY ?? '';
  if (key.trim() === '') throw new UsageError('AP_API_KEY is not set; export the primary app\'s API key (in the workflow: env AP_API_KEY: ${{ secrets.AP_API_KEY }})');
  await mustRun('wrangler', ['secret', 'put', 'AP_API_KEY', '--env', args.env], 'the edge keeps its previous AP_API_KEY; check CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID', { input: key, streamStdout: true });
  console.log(`AP_API_KEY is set on the edge Worker (--env ${args.env})`);
  return ExitCode.ok;
});
