import { CliError, UsageError } from '../cli/index.js';

// The refs the canary workflow may build and deploy with production secrets. They are protected in the repository
// (branch protection or rulesets on main and release-*, a tag ruleset on v*), so whatever they hold was reviewed;
// docs/delivery-runbook.md says how to keep that true.
const NAME = String.raw`[A-Za-z0-9](?:[A-Za-z0-9_-]|\.(?!\.))*`;
const ALLOWED = [
  { pattern: new RegExp(String.raw`^(?:refs/heads/)?(main)$`), prefix: 'refs/heads/' },
  { pattern: new RegExp(String.raw`^(?:refs/heads/)?(release-${NAME})$`), prefix: 'refs/heads/' },
  { pattern: new RegExp(String.raw`^(?:refs/tags/)?(v${NAME})$`), prefix: 'refs/tags/' },
] as const;

/** What the canary workflow accepts as its `ref` input. */
export const PROTECTED_REF_FORMS = 'main, a release-* branch (release-1.4) or a v* tag (v1.4.0), short or as refs/heads/… / refs/tags/…';

/**
 * The fully qualified ref for a canary build (`refs/heads/main`, `refs/heads/release-…`, `refs/tags/v…`); a
 * UsageError for anything else — feature branches, commit shas, pull-request refs. Qualifying it means a branch named
 * like a tag (or the reverse) can never stand in for the protected one.
 */
export function resolveProtectedRef(ref: string): string {
  for (const { pattern, prefix } of ALLOWED) {
    const name = pattern.exec(ref)?.[1];
    if (name !== undefined && !name.endsWith('.') && !name.endsWith('.lock')) return `${prefix}${name}`;
  }
  throw new UsageError(`"${ref}" is not a ref the canary may be built from; use ${PROTECTED_REF_FORMS}. To try a feature branch on the canary, push it as a release-* branch through review`);
}

/** Refuses (exit 1) unless the workflow was dispatched from a protected ref, i.e. runs a reviewed copy of itself. */
export function assertProtectedDispatch(dispatchRef: string, isProtected: string): void {
  if (isProtected === 'true') return;
  throw new CliError(`the workflow was dispatched from ${dispatchRef || 'an unknown ref'}, which is not protected, so its own steps were not reviewed. Dispatch it from main: gh workflow run continuous-delivery-canary.yml --ref main -f ref=<ref>`);
}
