import type { AutocannonRequest } from 'autocannon';
import { startEdge } from '../../dev/edge/edge-runner.js';
import { allocatePort } from '../../testkit/ports.js';
import type { BenchTopology } from '../load/bench-topology.js';
import { runLoad } from '../load/run-load.js';
import { startWorkerModule } from '../probe/start-worker.js';
import { attributeProfile } from './attribute.js';
import type { Attribution } from './attribute.js';
import { inspectorUrl, profileWhile } from './cpu-profile.js';

/** Where the edge's and the probe's isolate time goes under the same load. */
export interface ProfileResult {
  connections: number;
  seconds: number;
  edge: Attribution;
  probe: Attribution;
}

/**
 * CPU profiles of the edge (an unminified copy of the same bundle, same bindings and stores) and of the bare probe,
 * each under `seconds` of the bench's load with the inspector on. Only for this step: the inspector costs throughput,
 * so the measured targets keep it off; what carries over is each part's share of the busy time.
 */
export async function profileEdgeAndProbe(
  t: BenchTopology,
  requests: AutocannonRequest[],
  options: { connections: number; seconds: number },
): Promise<ProfileResult> {
  const edgePort = await allocatePort();
  const edge = await startEdge({ bindings: t.edgeBindings, inspectorPort: edgePort, unminified: true });
  let edgeResult: Attribution;
  try {
    edgeResult = await profileTarget(edge.url, edge.scriptPath, await inspectorUrl(edgePort, 'canary-edge'), requests, options);
  } finally {
    await edge.close();
  }
  const probePort = await allocatePort();
  const probe = await startWorkerModule('probe-worker.ts', t.probeBindings, { inspectorPort: probePort });
  let probeResult: Attribution;
  try {
    probeResult = await profileTarget(probe.url, probe.scriptPath, await inspectorUrl(probePort, 'bench-probe-worker'), requests, options);
  } finally {
    await probe.close();
  }
  return { ...options, edge: edgeResult, probe: probeResult };
}

async function profileTarget(
  url: string,
  bundle: string,
  ws: string,
  requests: AutocannonRequest[],
  options: { connections: number; seconds: number },
): Promise<Attribution> {
  // Warm: JIT, connection pools, the cached cohort.
  await runLoad({ url, connections: options.connections, seconds: 1, requests });
  let responses = 0;
  const profile = await profileWhile(ws, async () => {
    responses = (await runLoad({ url, connections: options.connections, seconds: options.seconds, requests })).responses;
  });
  return attributeProfile(profile, bundle, responses);
}
