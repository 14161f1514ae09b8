import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from '../repo-root.js';

// What the bundle is made of: a change to any of these makes a new bundle; otherwise the cached one is reused.
const INPUT_DIRS = ['edge', 'core'];
const INPUT_FILES = ['wrangler.toml', 'package-lock.json', 'tsconfig.json'];
const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'canary-edge');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))),
  );
  return nested.flat();
}

async function inputsHash(): Promise<string> {
  const files = [
    ...(await Promise.all(INPUT_DIRS.map((d) => filesUnder(path.join(REPO_ROOT, d))))).flat(),
    ...INPUT_FILES.map((f) => path.join(REPO_ROOT, f)),
  ].sort();
  const hash = createHash('sha256');
  for (const file of files) hash.update(path.relative(REPO_ROOT, file)).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/** Runs this repository's wrangler offline in `cwd` (default: the repository). */
export function runWrangler(args: string[], cwd = REPO_ROOT): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), ...args], {
      cwd,
      // Offline: no metrics, no login, logs kept out of the user's home.
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false', WRANGLER_LOG_PATH: path.join(CACHE_DIR, 'logs') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`wrangler ${args.join(' ')} failed (exit ${code}):\n${output}`))));
  });
}

/**
 * The edge Worker exactly as `wrangler deploy` would upload it (`wrangler deploy --dry-run --outdir`: wrangler's own
 * bundler, wrangler.toml's settings, minified), built once per change of its sources and cached under
 * node_modules/.cache. Returns the path of the bundle's entry module.
 */
export async function edgeBundle(options: { minify?: boolean } = {}): Promise<string> {
  // Unminified only for CPU profiles (bench): function names and module comments make a profile readable.
  const minify = options.minify ?? true;
  const dir = path.join(CACHE_DIR, `edge-${await inputsHash()}${minify ? '' : '-unminified'}`);
  const entry = path.join(dir, 'index.js');
  if (await exists(entry)) return entry;
  await mkdir(CACHE_DIR, { recursive: true });
  const staging = await mkdtemp(path.join(CACHE_DIR, 'building-'));
  try {
    await runWrangler(['deploy', '--dry-run', '--outdir', staging, ...(minify ? [] : ['--minify=false'])]);
    // Another process may have built the same bundle meanwhile; either copy is the same, keep the first.
    await rename(staging, dir).catch(async (error: unknown) => {
      if (!(await exists(entry))) throw error;
    });
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return entry;
}
