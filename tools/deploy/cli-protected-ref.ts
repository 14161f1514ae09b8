import { z } from 'zod';
import { createProgram, ExitCode, parseArgv, runCli, UsageError } from '../cli/index.js';
import { assertProtectedDispatch, resolveProtectedRef } from './protected-ref.js';

const program = createProgram('npm run -s canary:protected-ref', 'Prints the fully qualified protected ref to build, or refuses the ref.')
  .usage('-- --ref <main|release-*|v*> [--dispatch-ref <ref> --dispatch-ref-protected <true|false>]')
  .option('--ref <ref>', 'the ref to build (the workflow input)')
  .option('--dispatch-ref <ref>', 'the ref the workflow was dispatched from (github.ref)')
  .option('--dispatch-ref-protected <bool>', 'whether that ref is protected (github.ref_protected)');

// Exit 0 printing e.g. refs/heads/main on stdout (for the workflow to check out), 2 for a ref outside main, release-*
// and v*, 1 when the dispatching ref is not protected.
runCli(async (argv) => {
  const args = parseArgv(program, argv, z.object({
    ref: z.string({ error: 'is required (main, release-* or v*)' }),
    dispatchRef: z.string().optional(),
    dispatchRefProtected: z.string().optional(),
  }));
  const ref = resolveProtectedRef(args.ref);
  if ((args.dispatchRef === undefined) !== (args.dispatchRefProtected === undefined)) {
    throw new UsageError('pass --dispatch-ref and --dispatch-ref-protected together (github.ref and github.ref_protected)');
  }
  if (args.dispatchRef !== undefined && args.dispatchRefProtected !== undefined) assertProtectedDispatch(args.dispatchRef, args.dispatchRefProtected);
  console.error(`ok: building ${ref}${args.dispatchRef === undefined ? '' : `, dispatched from protected ${args.dispatchRef}`}`);
  console.log(ref);
  return ExitCode.ok;
});
