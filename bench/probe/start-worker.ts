import path from 'node:path';
import { build } from 'esbuild';
import { Miniflare } from 'miniflare';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { unstable_getMiniflareWorkerOptions } from 'wrangler';
import { REPO_ROOT } from '../../dev/repo-root.js';

export interface WorkerRunner {
  url: string;
  /** The bundled module (for reading a profile against it). */
  scriptPath: string;
  close(): Promise<void>;
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
 * same way dev/edge/edge-runner.ts runs the edge (inspector off, default entry), so the comparison is like for like.
 */
export async function startWorkerModule(
  file: 'probe-worker.ts' | 'floor-worker.ts',
  bindings: Record<string, string>,
  options: { inspectorPort?: number } = {},
): Promise<WorkerRunner> {
  const name = path.basename(file, '.ts');
  const outfile = path.join(REPO_ROOT, 'node_modules', '.cache', 'canary-edge', 'bench-workers', `${name}.js`);
  await build({
    entryPoints: [path.join(import.meta.dirname, file)],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'silent',
  });
  const edgeWorker = unstable_getMiniflareWorkerOptions(path.join(REPO_ROOT, 'wrangler.toml')).workerOptions;
  const mf = new Miniflare({
    name: `bench-${name}`,
    modules: true,
    scriptPath: outfile,
    // The edge's compatibility date and flags, as wrangler reads them, so these Workers run the same workerd behaviour.
    compatibilityDate: edgeWorker.compatibilityDate,
    compatibilityFlags: edgeWorker.compatibilityFlags,
    host: '127.0.0.1',
    port: 0,
    bindings,
    // Only for the CPU-profile step: the inspector costs throughput, so measured runs keep it off.
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    logRequests: false,
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => drainRuntimeStdio(name, [stdout, stderr]),
  });
  const url = await mf.ready;
  return { url: url.origin, scriptPath: outfile, close: () => mf.dispose() };
}
