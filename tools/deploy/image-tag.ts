import { UsageError } from '../cli/index.js';

/** `<MAJOR.MINOR.PATCH>.<commit sha, 7-40 hex>.canary`: the tag of every canary image (rollback input, runbook). */
export const CANARY_TAG_PATTERN = /^(\d+\.\d+\.\d+)\.([0-9a-f]{7,40})\.canary$/;

const EXAMPLE_TAG = '0.1.0.abc1234.canary';
const VERSION_PATTERN = /^\d+\.\d+\.\d+$/;
const FULL_SHA_PATTERN = /^[0-9a-f]{40}$/;
// [registry[:port]/]repository:tag, lowercase as Docker requires. Narrow on purpose: the value is pasted into YAML
// and kubectl arguments, so nothing that could quote, comment or break a line may pass.
const IMAGE_REFERENCE_PATTERN = /^[a-z0-9][a-z0-9.-]*(?::\d+)?(?:\/[a-z0-9][a-z0-9._-]*)*:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A parsed canary tag. */
export interface CanaryTag {
  version: string;
  sha: string;
}

/** The canary tag of `version` built from commit `sha` (its first 7 hex digits). */
export function formatCanaryTag(version: string, sha: string): string {
  if (!VERSION_PATTERN.test(version)) {
    throw new UsageError(`package.json version "${version}" is not MAJOR.MINOR.PATCH; canary tags are <version>.<sha>.canary and the rollback workflow only accepts that form, so set a plain release version`);
  }
  if (!/^[0-9a-f]{7,40}$/.test(sha)) throw new UsageError(`"${sha}" is not a commit sha (7-40 lowercase hex digits)`);
  return `${version}.${sha.slice(0, 7)}.canary`;
}

/** The full commit sha printed by `git rev-parse --verify HEAD`; anything else is an error naming the fix. */
export function parseGitSha(stdout: string): string {
  const sha = stdout.trim();
  if (!FULL_SHA_PATTERN.test(sha)) {
    throw new UsageError(`git rev-parse printed "${sha.slice(0, 80)}", not a commit sha; run from a git checkout with at least one commit`);
  }
  return sha;
}

/** Parses `<version>.<sha>.canary`; a UsageError showing the expected form otherwise. */
export function parseCanaryTag(tag: string): CanaryTag {
  const match = CANARY_TAG_PATTERN.exec(tag);
  const version = match?.[1];
  const sha = match?.[2];
  if (version === undefined || sha === undefined) {
    throw new UsageError(`"${tag}" is not a canary image tag; expected <version>.<sha>.canary, e.g. ${EXAMPLE_TAG}`);
  }
  return { version, sha };
}

/** The tag of an image reference `[registry[:port]/]repository:tag`; null when it has none or is pinned by digest. */
export function tagOfImage(image: string): string | null {
  if (image.includes('@')) return null;
  const name = image.slice(image.lastIndexOf('/') + 1);
  const colon = name.lastIndexOf(':');
  return colon < 0 ? null : name.slice(colon + 1);
}

/** Checks that `image` is a plain `repository:tag` reference whose tag is the canary tag `version`. */
export function assertCanaryImage(image: string, version: string): void {
  parseCanaryTag(version);
  if (!IMAGE_REFERENCE_PATTERN.test(image)) {
    throw new UsageError(`--image "${image}" is not an image reference [registry/]repository:tag (lowercase, no digest), e.g. ghcr.io/canary-edge/canary-edge:${EXAMPLE_TAG}`);
  }
  const tag = tagOfImage(image);
  if (tag !== version) {
    throw new UsageError(`--image ${image} is tagged "${tag ?? ''}" but --version is ${version}; the apps report AP_VERSION in x-ap-version, so pass the image's own tag as --version`);
  }
}
