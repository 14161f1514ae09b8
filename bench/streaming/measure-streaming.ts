import { peakRssMiB, resetPeakRss, rssMiB } from '../../dev/process/process-memory.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { BenchTopology } from '../load/bench-topology.js';
import { download, expectedUploadSha256, upload } from './stream-transfer.js';
import type { TransferResult } from './stream-transfer.js';

export interface StreamingRow {
  direction: 'upload' | 'download';
  via: 'direct' | 'edge';
  result: TransferResult;
  /** workerd RSS just before the transfer, its peak during it, and the difference (edge rows only). */
  rssBeforeMiB: number | null;
  peakRssMiB: number | null;
  growthMiB: number | null;
}

/**
 * 1 GiB (by default) up and down, straight to the origin and through the edge (a canary platform's JWT, so the
 * membership lookup is on the path), with workerd's peak RSS reset before each edge transfer.
 */
export async function measureStreaming(t: BenchTopology, canaryPlatformId: string, mib: number): Promise<StreamingRow[]> {
  const token = await signPrincipalJwt(t.jwtSecret, canaryPlatformId, { expiresInSeconds: 6 * 3600 });
  const headers = { authorization: `Bearer ${token}` };
  const sha = expectedUploadSha256(mib);
  const rows: StreamingRow[] = [];
  const bytes = mib * 1024 * 1024;
  for (const via of ['direct', 'edge'] as const) {
    const base = via === 'edge' ? t.edge.url : t.origins.info.canaryUrl;
    for (const direction of ['upload', 'download'] as const) {
      let before: number | null = null;
      if (via === 'edge') {
        resetPeakRss(t.edgePid);
        before = rssMiB(t.edgePid);
      }
      const result = direction === 'upload' ? await upload(base, headers, mib, sha) : await download(base, headers, bytes);
      const peak = via === 'edge' ? peakRssMiB(t.edgePid) : null;
      rows.push({ direction, via, result, rssBeforeMiB: before, peakRssMiB: peak, growthMiB: before === null || peak === null ? null : peak - before });
      console.log(`  ${direction} ${mib} MiB via ${via}: ${result.seconds.toFixed(1)} s${peak === null ? '' : `, workerd peak ${peak.toFixed(0)} MiB`} (${result.detail})`);
    }
  }
  return rows;
}
