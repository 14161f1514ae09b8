import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { runWrangler } from '../../dev/edge/edge-bundle.js';
import { REPO_ROOT } from '../../dev/repo-root.js';

const run = promisify(execFile);

/**
 * The edge before this round of work (the commit the hardening, structure, operator-plane and progressive-delivery
 * issues started from), so `npm run bench` can report "before" and "after" from one run. BENCH_BASELINE_REF picks
 * another commit; an empty value leaves the baseline out.
 */
export const DEFAULT_BASELINE_REF = '5ee02c67ed866096e8922aeb3abd28c56a789286';

/** A built edge of another commit. */
export interface BaselineBuild {
  ref: string;
  sha: string;
  /** The first line of its commit message. */
  subject: string;
  scriptPath: string;
  wranglerToml: string;
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * Builds the edge of `ref` the way `wrangler deploy` would (its own wrangler.toml, this repository's node_modules),
 * from `git archive` into a cache folder; a commit is built once and reused.
 */
export async function buildBaselineEdge(ref: string): Promise<BaselineBuild> {
  const sha = (await run('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: REPO_ROOT })).stdout.trim();
  const subject = (await run('git', ['log', '-1', '--format=%s', sha], { cwd: REPO_ROOT })).stdout.trim();
  const cache = path.join(REPO_ROOT, 'node_modules', '.cache', 'canary-edge');
  const dir = path.join(cache, `baseline-${sha.slice(0, 12)}`);
  const out = path.join(dir, 'dist');
  const build = { ref, sha, subject, scriptPath: path.join(out, 'index.js'), wranglerToml: path.join(dir, 'src', 'wrangler.toml') };
  if (await exists(build.scriptPath)) return build;
  await mkdir(cache, { recursive: true });
  const staging = await mkdtemp(path.join(cache, 'baseline-building-'));
  try {
    const src = path.join(staging, 'src');
    await mkdir(src);
    // git archive | tar -x: the commit's files only, never the working tree.
    await run('sh', ['-c', `git archive ${sha} | tar -x -C "${src}"`], { cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024 });
    await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(src, 'node_modules'), 'dir');
    await runWrangler(['deploy', '--dry-run', '--outdir', path.join(staging, 'dist')], src);
    await rename(staging, dir).catch(async (error: unknown) => {
      if (!(await exists(build.scriptPath))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return build;
}
