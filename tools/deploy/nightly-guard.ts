import { CliError } from '../cli/index.js';
import { CANARY_TAG_PATTERN, tagOfImage } from './image-tag.js';
import { runCommand } from './run-command.js';

/** How an operator deliberately replaces a canary the nightly build refused to overwrite. */
export const NIGHTLY_GUARD_FIX = 'The nightly build will not overwrite it. When that canary is done, deploy main by hand: gh workflow run continuous-delivery-canary.yml -f ref=main';

/** The nightly build refused to replace the running canary. */
export class NightlyGuardRefusal extends CliError {
  constructor(message: string) {
    super(`${message}. ${NIGHTLY_GUARD_FIX}`);
  }
}

/** The commit a canary image was built from, read from its `<version>.<sha>.canary` tag. */
export function shaOfCanaryImage(image: string): string {
  const tag = tagOfImage(image);
  const sha = tag === null ? undefined : CANARY_TAG_PATTERN.exec(tag)?.[2];
  if (sha === undefined) throw new NightlyGuardRefusal(`the canary runs ${image}, whose tag is not <version>.<sha>.canary, so the commit it was built from is unknown`);
  return sha;
}

/** Resolves when the canary running `image` was built from a commit on `mainRef`; throws NightlyGuardRefusal otherwise. */
export async function guardNightly(image: string, mainRef: string): Promise<string> {
  const sha = shaOfCanaryImage(image);
  const { code } = await runCommand('git', ['merge-base', '--is-ancestor', sha, mainRef]);
  if (code === 0) return sha;
  // merge-base exits 1 for "not an ancestor" and 128 when it cannot resolve a commit (a deleted or force-pushed
  // branch, or a shallow clone): both mean the running canary cannot be shown to come from main.
  if (code === 1) throw new NightlyGuardRefusal(`the canary runs ${image}, built from ${sha}, which is not on ${mainRef} (a feature-branch canary)`);
  throw new NightlyGuardRefusal(`the canary runs ${image}, built from ${sha}, which git cannot place relative to ${mainRef} (exit ${code}: a deleted or force-pushed branch, or a clone without full history — checkout needs fetch-depth: 0)`);
}
