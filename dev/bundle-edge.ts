import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Repository root (this file lives in dev/). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Bundles the edge Worker the way wrangler does for deploy (ESM, workerd conditions), so local runs execute the same
 * code that ships. Each call writes to a fresh temporary directory (concurrent runs never share a file); returns the
 * bundle path, whose directory the caller removes when done.
 */
export async function bundleEdge(): Promise<string> {
  const outDir = await mkdtemp(path.join(os.tmpdir(), 'canary-edge-bundle-'));
  const outfile = path.join(outDir, 'index.js');
  await build({
    entryPoints: [path.join(REPO_ROOT, 'edge', 'index.ts')],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser', 'import', 'default'],
    mainFields: ['browser', 'module', 'main'],
    sourcemap: 'linked',
    logLevel: 'silent',
    legalComments: 'none',
  });
  return outfile;
}
