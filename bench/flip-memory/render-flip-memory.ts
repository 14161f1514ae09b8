import { fixed, int, table } from '../report/format.js';
import type { FlipMemoryResult } from './measure-flip-memory.js';

function mib(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${int(n)} MiB`;
}

function size(miB: number): string {
  return miB >= 1024 ? `${fixed(miB / 1024, 1)} GiB` : `${int(miB)} MiB`;
}

function jobSize(miB: number): string {
  return miB >= 1 ? `${fixed(miB, miB % 1 === 0 ? 0 : 2)} MiB` : `${int(miB * 1024)} KiB`;
}

/** A markdown section: one table of the flip's memory, time and job accounting, and how it was measured. */
export function renderFlipMemory(r: FlipMemoryResult): string {
  const header = ['Backlog', 'Page size', 'Seeding', 'Move', 'App RSS before', 'App RSS peak', 'Growth', 'Heap limit', 'Moved', 'Lost', 'Duplicated', 'Redis peak'];
  const row = [
    `${int(r.jobs)} × ${jobSize(r.jobMiB)} (${size(r.backlogMiB)})`,
    int(r.pageSize),
    `${fixed(r.seedSeconds, 1)} s`,
    `${fixed(r.moveSeconds, 1)} s`,
    mib(r.rssBeforeMiB),
    mib(r.rssPeakMiB),
    `+${int(r.rssGrowthMiB)} MiB`,
    r.heapLimitMiB === null ? 'Node default' : mib(r.heapLimitMiB),
    int(r.moved),
    int(r.lost),
    int(r.duplicated),
    mib(r.redisUsedMiBPeak),
  ];
  const anomalies = [
    r.movers.length > 1
      ? `${r.movers.length} moves ran (${r.movers.map((m) => `${m.app} moved ${int(m.moved)} by ${fixed(m.seconds, 0)} s`).join(', ')}): ` +
        `another app took the flip entry over after AP_FLIPS_CLAIM_IDLE_MS = ${int(r.claimIdleMs)} ms while it was still being handled`
      : '',
    r.leftOnSource > 0 ? `${int(r.leftOnSource)} jobs stayed on workerJobs` : '',
    r.corrupted > 0 ? `${int(r.corrupted)} moved jobs have altered data` : '',
    r.undelayed > 0 ? `${int(r.undelayed)} moved jobs lost their delay` : '',
  ].filter((s) => s !== '');
  const sentence =
    `One platform's ${int(r.jobs)} delayed jobs (QUEUED runs, no workers) were added to \`workerJobs\` in a Redis database of their own, ` +
    `the platform was flipped into the canary through the edge's admin route, and the RSS of the app that moved them (${r.handler}) was read ` +
    `from /proc every 50 ms and from VmHWM (reset before the flip) until 'flip handled'; Move runs from the flip request to that line, Moved, ` +
    `Lost and Duplicated count job ids on both queues afterwards, and Redis peak is the server's \`used_memory\` (polled every 250 ms, ` +
    `${mib(r.redisUsedMiBBefore)} before seeding)${anomalies.length === 0 ? '' : ` — note: ${anomalies.join('; ')}`}.`;
  return [`### Flip memory: moving a ${size(r.backlogMiB)} backlog`, '', table(header, [row]), '', sentence].join('\n');
}
