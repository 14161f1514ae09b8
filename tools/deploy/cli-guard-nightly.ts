import { z } from 'zod';
import { parseCliArgs } from '../migrations/cli-args.js';
import { ExitCode } from '../migrations/errors.js';
import { runCli } from '../migrations/run-cli.js';
import { guardNightly } from './nightly-guard.js';

// npm run canary:guard-nightly -- --running-image <image> [--main-ref origin/main]: exit 0 when the running canary was
// built from a commit on main (or nothing runs), exit 1 naming the fix otherwise, so the nightly build never silently
// replaces a feature-branch canary.
runCli(async (argv) => {
  const args = parseCliArgs(
    argv,
    { 'running-image': { type: 'string' }, 'main-ref': { type: 'string' } },
    z.object({
      'running-image': z.string({ error: 'is required (empty when nothing is deployed)' }),
      'main-ref': z.string().min(1).default('origin/main'),
    }),
    'npm run canary:guard-nightly -- --running-image <image|""> [--main-ref origin/main]',
  );
  const image = args['running-image'].trim();
  const mainRef = args['main-ref'];
  if (image === '') {
    console.log('no canary is deployed yet: nothing for the nightly build to overwrite.');
    return ExitCode.ok;
  }
  const sha = await guardNightly(image, mainRef);
  console.log(`ok: the canary runs ${image}, built from ${sha} on ${mainRef}; the nightly build may replace it.`);
  return ExitCode.ok;
});
