import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { createProgram, parseArgv, runCli, UsageError } from '../cli/index.js';
import { durationSchema, formatDuration } from '../cli/duration.js';
import { analyticsAccessFromEnv, readTrafficByVersion } from './edge-analytics.js';
import { versionIdSchema } from './edge-flags.js';
import { EdgeCheckExitCode, judge, type Verdict } from './edge-verdict.js';

const program = createProgram('npm run edge:check', "Compares a new edge version's error rate with the previous version's over a window of split traffic.")
  .usage('-- --worker <script-name> --new <version-id> --old <version-id> [--window 10m] [--since <ISO time>] [--min-requests 200] [--max-increase 0.5] [--extend 1]')
  .option('--worker <name>', 'the deployed Worker (script) name, e.g. canary-edge-production')
  .option('--new <version-id>', 'the version under test (edge:upload printed it)')
  .option('--old <version-id>', 'the version serving the rest of the traffic (edge:deploy-split printed it)')
  .option('--window <duration>', 'how long to observe before judging (default 10m)')
  .option('--since <time>', 'when the split went live, ISO 8601 (default: now, so the check first waits out the window)')
  .option('--min-requests <n>', 'requests each version needs before they are compared (default 200)')
  .option('--max-increase <points>', 'percentage points the new error rate may exceed the old one by (default 0.5)')
  .option('--extend <n>', 'on an inconclusive verdict, observe another window and judge again, up to n times (default 1)');

const ZERO = { requests: 0, errors: 0 };

// Exit codes (EdgeCheckExitCode): 0 healthy, 1 analytics unreadable, 2 usage, 3 unhealthy, 5 inconclusive.
// Credentials: CLOUDFLARE_API_TOKEN and CLOUDFLARE_ACCOUNT_ID; CLOUDFLARE_API_BASE_URL points it at another API.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    worker: z.string({ error: 'is required (the Worker name, e.g. canary-edge-production)' }).regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be a Worker script name'),
    new: versionIdSchema('the version under test'),
    old: versionIdSchema('the version serving the rest of the traffic'),
    window: durationSchema.prefault('10m'),
    since: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 time such as 2026-05-04T09:30:00Z' })
      .transform((text) => new Date(text))
      .refine((date) => date.getTime() <= Date.now() + 3_600_000, 'must not be more than an hour from now')
      .optional(),
    minRequests: z.string().regex(/^\d{1,9}$/, 'must be a whole number').transform(Number).default(200),
    maxIncrease: z.string().regex(/^\d{1,2}(?:\.\d{1,3})?$/, 'must be percentage points such as 0.5').transform(Number).default(0.5),
    extend: z.string().regex(/^\d$/, 'must be a whole number from 0 to 9').transform(Number).default(1),
  }));
  if (args.new === args.old) throw new UsageError(`--new and --old are both ${args.new}; compare the uploaded version with the one edge:deploy-split printed`);
  const access = analyticsAccessFromEnv();
  const since = args.since ?? new Date();
  const thresholds = { minRequests: args.minRequests, maxIncreasePoints: args.maxIncrease };

  let verdict: Verdict = { kind: 'inconclusive', reason: 'not judged' };
  for (let round = 0; round <= args.extend; round++) {
    // Each round widens the window from the split onwards, so a second look judges on more data, not other data.
    const until = new Date(since.getTime() + (round + 1) * args.window);
    const wait = until.getTime() - Date.now();
    if (wait > 0) {
      console.log(`observing ${args.worker} until ${until.toISOString()} (${formatDuration(wait)} from now)...`);
      await sleep(wait);
    }
    const traffic = await readTrafficByVersion(access, { worker: args.worker, since, until });
    verdict = judge(traffic.get(args.new) ?? ZERO, traffic.get(args.old) ?? ZERO, thresholds);
    if (verdict.kind !== 'inconclusive') break;
    if (round < args.extend) console.log(`inconclusive from ${since.toISOString()} to ${until.toISOString()}: ${verdict.reason}; observing another ${formatDuration(args.window)}`);
  }
  switch (verdict.kind) {
    case 'healthy':
      console.log(`healthy: ${verdict.reason}. Promote it: npm run edge:promote -- --env <env> --new ${args.new}`);
      return EdgeCheckExitCode.ok;
    case 'unhealthy':
      console.error(`unhealthy: ${verdict.reason}. Roll back: npm run edge:rollback -- --env <env> --to ${args.old}`);
      return EdgeCheckExitCode.unhealthy;
    case 'inconclusive':
      console.error(`inconclusive: ${verdict.reason}. Not promoting an edge nobody has exercised; roll back (npm run edge:rollback -- --env <env> --to ${args.old}) or judge again over a longer window`);
      return EdgeCheckExitCode.inconclusive;
  }
});
