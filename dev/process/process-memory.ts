import { readFileSync, readdirSync, writeFileSync } from 'node:fs';

/** Pids of live processes whose command name is `name` (e.g. the workerd that Miniflare spawned). */
export function pidsByName(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // The process exited while we looked.
    }
  }
  return pids;
}

/** Child processes of this process with that command name, oldest first (e.g. the workerd Miniflare started). */
export function childPidsByName(name: string): number[] {
  return pidsByName(name)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch {
        return false;
      }
    })
    .sort((a, b) => a - b);
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(match?.[1] ?? NaN);
}

/** Current resident set size in MiB. */
export function rssMiB(pid: number): number {
  return statusKb(pid, 'VmRSS') / 1024;
}

/** Peak resident set size in MiB since start or the last `resetPeakRss`. */
export function peakRssMiB(pid: number): number {
  return statusKb(pid, 'VmHWM') / 1024;
}

/** Resets the kernel's peak-RSS mark (VmHWM) so a later read measures one phase only. */
export function resetPeakRss(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
