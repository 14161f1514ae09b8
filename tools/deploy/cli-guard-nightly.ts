import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli } from '../cli/index.js';
import { guardNightly } from './nightly-guard.js';

const program = createProgram('npm run canary:guard-nightly', 'Refuses to let the nightly build replace a canary built from a commit not on main.')
  .usage('-- --running-image <image|""> [--main-ref origin/main]')
  .option('--running-image <image>', 'the image the canary runs (empty when nothing is deployed)')
  .option('--main-ref <ref>', 'the ref the running commit must be on (default origin/main)');

// Exit 0 when the running canary was built from a commit on main (or nothing runs), exit 1 naming the fix otherwise,
// so the nightly build never silently replaces a feature-branch canary.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    runningImage: z.string({ error: 'is required (empty when nothing is deployed)' }),
    mainRef: z.string().min(1).default('origin/main'),
  }));
  const image = args.runningImage.trim();
  const mainRef = args.mainRef;
  if (image === '') {
    console.log('no canary is deployed yet: nothing for the nightly build to overwrite.');
    return ExitCode.ok;
  }
  const sha = await guardNightly(image, mainRef);
  console.log(`ok: the canary runs ${image}, built from ${sha} on ${mainRef}; the nightly build may replace it.`);
  return ExitCode.ok;
});
