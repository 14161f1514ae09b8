import { peakRssMiB, resetPeakRss, rssMiB } from '../../dev/process/process-memory.js';

/** What one process's resident set did while a sampler watched it. */
export interface RssTrace {
  pid: number;
  /** VmRSS when sampling started. */
  beforeMiB: number;
  /** The higher of the sampled VmRSS maximum and the kernel's VmHWM (which also catches peaks between samples). */
  peakMiB: number;
  /** VmRSS when sampling stopped. */
  afterMiB: number;
  samples: number;
}

/** A running sampler; `stop()` returns one trace per pid, in the order given. */
export interface RssSampler {
  stop(): RssTrace[];
}

function readOr(read: () => number): number {
  try {
    return read();
  } catch {
    // The process exited: what was sampled before stands.
    return Number.NaN;
  }
}

/**
 * Resets each process's VmHWM, then reads its VmRSS every `intervalMs` from /proc until stopped. Both are kept
 * because a short spike can fall between two samples, while VmHWM alone says nothing about when memory grew.
 */
export function startRssSampler(pids: readonly number[], intervalMs = 50): RssSampler {
  for (const pid of pids) resetPeakRss(pid);
  const traces: RssTrace[] = pids.map((pid) => {
    const before = readOr(() => rssMiB(pid));
    return { pid, beforeMiB: before, peakMiB: before, afterMiB: before, samples: 1 };
  });
  const sample = (): void => {
    for (const trace of traces) {
      const now = readOr(() => rssMiB(trace.pid));
      if (Number.isNaN(now)) continue;
      trace.samples++;
      trace.afterMiB = now;
      if (Number.isNaN(trace.peakMiB) || now > trace.peakMiB) trace.peakMiB = now;
    }
  };
  const timer = setInterval(sample, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      sample();
      for (const trace of traces) {
        const hwm = readOr(() => peakRssMiB(trace.pid));
        if (hwm > trace.peakMiB || Number.isNaN(trace.peakMiB)) trace.peakMiB = hwm;
      }
      return traces;
    },
  };
}
