import { build } from 'esbuild';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

/** Repository root (this file lives in dev/). */
export const REPO_ROOT = path.resolve(import.meta.dirname, '..');

/**
 * Bundles the edge Worker the way wrangler does for deploy (ESM, workerd conditions), so local runs execute the same
 * code that ships. Returns the bundle path.
 */
export async function bundleEdge(outDir = path.join(REPO_ROOT, '.tmp', 'edge-bundle')): Promise<string> {
  await mkdir(outDir, { recursive: true });
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
