import { describe, expect, it } from 'vitest';
import { assertCanaryImage, formatCanaryTag, parseCanaryTag, parseGitSha, tagOfImage } from '../../tools/deploy/image-tag.js';
import { shaOfCanaryImage } from '../../tools/deploy/nightly-guard.js';

const SHA = 'abc1234def5678abc1234def5678abc1234def56';

describe('canary image tags', () => {
  it('are <version>.<first 7 hex digits of the commit>.canary', () => {
    expect(formatCanaryTag('0.1.0', SHA)).toBe('0.1.0.abc1234.canary');
  });

  it.each(['0.1', '0.1.0-rc.1', 'v0.1.0', ''])('refuse the package version %j, naming the expected form', (version) => {
    expect(() => formatCanaryTag(version, SHA)).toThrow(/is not MAJOR\.MINOR\.PATCH/);
  });

  it('take the full sha git rev-parse prints, and nothing else', () => {
    expect(parseGitSha(`${SHA}\n`)).toBe(SHA);
    expect(() => parseGitSha('HEAD\n')).toThrow(/not a commit sha; run from a git checkout/);
    expect(() => parseGitSha('')).toThrow(/not a commit sha/);
  });

  it('parse back into version and sha', () => {
    expect(parseCanaryTag('0.51.0.abc1234.canary')).toEqual({ version: '0.51.0', sha: 'abc1234' });
    expect(parseCanaryTag(`1.2.3.${SHA}.canary`)).toEqual({ version: '1.2.3', sha: SHA });
  });

  it.each(['latest', '0.1.0.abc1234', '0.1.0.ABC1234.canary', '0.1.0.abc12.canary', '0.1.0.abc1234.canary\n', ' 0.1.0.abc1234.canary', '0.1.0.abc1234.canary;rm -rf /'])(
    'reject %j with an example of the expected form',
    (tag) => {
      expect(() => parseCanaryTag(tag)).toThrow(/expected <version>\.<sha>\.canary, e\.g\. 0\.1\.0\.abc1234\.canary/);
    },
  );
});

describe('image references', () => {
  it.each([
    ['ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary', '0.1.0.abc1234.canary'],
    ['localhost:5000/canary-edge:0.1.0.abc1234.canary', '0.1.0.abc1234.canary'],
    ['canary-edge:latest', 'latest'],
    ['localhost:5000/canary-edge', null],
    ['ghcr.io/canary-edge/canary-edge@sha256:0123', null],
  ])('%s has the tag %j', (image, tag) => {
    expect(tagOfImage(image)).toBe(tag);
  });

  it('name the commit a canary image was built from', () => {
    expect(shaOfCanaryImage('localhost:5000/canary-edge:0.1.0.abc1234.canary')).toBe('abc1234');
  });

  it('refuse to guess the commit of an image that is not canary-tagged', () => {
    expect(() => shaOfCanaryImage('ghcr.io/canary-edge/canary-edge:latest')).toThrow(/the commit it was built from is unknown\. The nightly build will not overwrite it/);
  });

  it('must carry the canary tag passed as the version', () => {
    expect(() => assertCanaryImage('ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary', '0.1.0.abc1234.canary')).not.toThrow();
    expect(() => assertCanaryImage('ghcr.io/canary-edge/canary-edge:0.1.0.abc1234.canary', '0.1.0.fff1234.canary')).toThrow(/is tagged "0\.1\.0\.abc1234\.canary" but --version is 0\.1\.0\.fff1234\.canary/);
    expect(() => assertCanaryImage('ghcr.io/canary-edge/canary-edge:latest', 'latest')).toThrow(/not a canary image tag/);
  });

  it.each(['Ghcr.io/x:0.1.0.abc1234.canary', 'ghcr.io/x:0.1.0.abc1234.canary # y', 'ghcr.io/x:"0.1.0.abc1234.canary"', 'ghcr.io/x@sha256:00:0.1.0.abc1234.canary'])(
    'refuse %j, which could not be pasted safely into YAML',
    (image) => {
      expect(() => assertCanaryImage(image, '0.1.0.abc1234.canary')).toThrow(/is not an image reference/);
    },
  );
});
