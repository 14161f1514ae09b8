import { startEdge } from '../../dev/edge/edge-runner.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import { allocatePort } from '../../testkit/ports.js';
import { heapUsage, inspectorUrl } from '../profile/cpu-profile.js';
import type { BenchTopology } from './bench-topology.js';

/** The isolate's JS heap across repeated reloads of a large cohort. */
export interface CohortReloadHeap {
  cohort: number;
  reloads: number;
  /** Heap used (MiB, after a full GC) before the first reload and after each sampled reload. */
  samples: { reload: number; usedMiB: number }[];
  /** Most heap seen after GC, and the isolate's limit for comparison (a deployed isolate has 128 MB). */
  maxUsedMiB: number;
  /** Median in-line reload time seen by the request that triggered it (ms). */
  reloadMs: number[];
}

const MIB = 1024 * 1024;

/**
 * Starts a copy of the edge with the inspector on (same bundle, bindings and stores), then `reloads` times: a flip of a
 * platform outside the cohort invalidates the cached cohort, and one request makes this isolate load all of it again.
 * After a full GC the heap is read through the inspector (Runtime.getHeapUsage). A heap that grew per reload would
 * climb steadily across the samples; a bounded one stays flat.
 */
export async function measureCohortReloadHeap(
  t: BenchTopology,
  options: { cohort: number; reloads: number; canaryPlatformId: string; flipPlatformId: string; sampleEvery: number },
): Promise<CohortReloadHeap> {
  const port = await allocatePort();
  const lines: string[] = [];
  const edge = await startEdge({ bindings: t.edgeBindings, inspectorPort: port, onLog: (line) => void (line.includes('"cache":"') && lines.push(line)) });
  try {
    const ws = await inspectorUrl(port, 'canary-edge');
    const token = await signPrincipalJwt(t.jwtSecret, options.canaryPlatformId, { expiresInSeconds: 3600 });
    const request = async (): Promise<void> => {
      const res = await fetch(`${edge.url}/v1/flows`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.headers.get('x-origin') !== 'canary') throw new Error('heap check: the cohort platform was not routed to the canary');
    };
    // The admin page without a session is answered by the edge itself: it wakes the isolate for its GC.
    const wake = async (): Promise<void> => void (await (await fetch(`${edge.url}/__canary/`, { redirect: 'manual' })).arrayBuffer());
    const usedMiB = async (): Promise<number> => (await heapUsage(ws, wake)).usedSize / MIB;
    await request();
    const samples = [{ reload: 0, usedMiB: await usedMiB() }];
    const reloadMs: number[] = [];
    for (let i = 1; i <= options.reloads; i++) {
      const flip = await fetch(`${edge.url}/v1/admin/platforms/canary`, {
        method: 'POST',
        headers: { 'api-key': t.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ platformId: options.flipPlatformId, canary: i % 2 === 1 }),
      });
      await flip.arrayBuffer();
      if (flip.status !== 200) throw new Error(`heap check: flip answered ${flip.status}`);
      const before = lines.length;
      await request();
      // The request's own log line says how long its in-line cohort load took.
      const line = lines.slice(before).find((l) => l.includes('"msg":"request"'));
      const lookupMs = line === undefined ? null : (JSON.parse(line) as { lookupMs?: number }).lookupMs;
      if (typeof lookupMs === 'number') reloadMs.push(lookupMs);
      if (i % options.sampleEvery === 0 || i === options.reloads) samples.push({ reload: i, usedMiB: await usedMiB() });
    }
    return { cohort: options.cohort, reloads: options.reloads, samples, maxUsedMiB: Math.max(...samples.map((s) => s.usedMiB)), reloadMs };
  } finally {
    await edge.close();
  }
}
