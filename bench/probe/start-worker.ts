import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { REPO_ROOT } from '../../dev/bundle-edge.js';

export interface WorkerRunner {
  url: string;
  close(): Promise<void>;
}

/** The compatibility date the edge ships with, so these Workers run the same workerd behaviour. */
async function compatibilityDate(): Promise<string> {
  const toml = await readFile(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const date = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)?.[1];
  if (date === undefined) throw new Error('wrangler.toml has no compatibility_date');
  return date;
}

/** workerd's own stdio: a client hanging up at the end of a load run is expected; anything else is shown (bounded). */
function drainRuntimeStdio(name: string, streams: Readable[]): void {
  let shown = 0;
  for (const stream of streams) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.startsWith('stack: ') || /disconnected: .*(Connection reset by peer|Broken pipe)/.test(line)) return;
      if (++shown <= 20) console.error(`  ${name}: ${line}`);
    });
  }
}

/**
 * Bundles one tiny Worker module from bench/probe/ with esbuild and runs it in its own workerd through Miniflare, the
 * same way dev/edge-runner.ts runs the edge (inspector off, default entry), so the comparison is like for like.
 */
export async function startWorkerModule(file: 'probe-worker.ts' | 'floor-worker.ts', bindings: Record<string, string>): Promise<WorkerRunner> {
  const name = path.basename(file, '.ts');
  const outfile = path.join(REPO_ROOT, '.tmp', 'bench-workers', `${name}.js`);
  await build({
    entryPoints: [path.join(import.meta.dirname, file)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'silent',
  });
  const mf = new Miniflare({
    name: `bench-${name}`,
    modules: true,
    scriptPath: outfile,
    compatibilityDate: await compatibilityDate(),
    host: '127.0.0.1',
    port: 0,
    bindings,
    logRequests: false,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => drainRuntimeStdio(name, [stdout, stderr]),
  });
  const url = await mf.ready;
  return { url: url.origin, close: () => mf.dispose() };
}
