import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { REPO_ROOT } from '../dev/repo-root.js';

const CACHE_DIR = path.join(REPO_ROOT, 'node_modules', '.cache', 'canary-edge', 'cli');

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(entries.map((e) => (e.isDirectory() ? filesUnder(path.join(dir, e.name)) : Promise.resolve([path.join(dir, e.name)]))));
  return nested.flat().sort();
}

// What a CLI can be made of: tools/ and core/ (the CLIs' own code), the lockfile (their dependencies).
let inputsHash: Promise<string> | null = null;
async function hashInputs(): Promise<string> {
  const files = [...(await filesUnder(path.join(REPO_ROOT, 'tools'))), ...(await filesUnder(path.join(REPO_ROOT, 'core'))), path.join(REPO_ROOT, 'package-lock.json')];
  const hash = createHash('sha256');
  for (const file of files) hash.update(file).update(await readFile(file));
  return hash.digest('hex').slice(0, 16);
}

const built = new Map<string, Promise<string>>();

async function buildOne(script: string): Promise<string> {
  const entry = path.join(REPO_ROOT, script);
  inputsHash ??= hashInputs();
  const scriptHash = createHash('sha256').update(await readFile(entry)).digest('hex').slice(0, 8);
  const outfile = path.join(CACHE_DIR, await inputsHash, `${script.replace(/\.ts$/, '')}-${scriptHash}.mjs`);
  if (existsSync(outfile)) return outfile;
  await mkdir(path.dirname(outfile), { recursive: true });
  const staging = `${outfile}.${process.pid}.tmp`;
  await build({
    entryPoints: [entry],
    outfile: staging,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
    // tools/ files locate the repository from their own URL (they all sit two folders below the root); the bundle
    // keeps its entry's URL, so those paths still point into the repository.
    define: { 'import.meta.url': JSON.stringify(pathToFileURL(entry).href) },
  });
  await rename(staging, outfile);
  await rm(staging, { force: true });
  return outfile;
}

/**
 * A TypeScript CLI of this repository compiled once with esbuild (what tsx does on every start), so a test can run it
 * as a real process in a tenth of the time. `script` is relative to the repository root.
 */
export function bundledCli(script: string): Promise<string> {
  let bundle = built.get(script);
  if (bundle === undefined) {
    bundle = buildOne(script);
    built.set(script, bundle);
  }
  return bundle;
}
