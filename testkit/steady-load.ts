/** What a steady load did. */
export interface LoadReport {
  sent: number;
  /** Sends that threw (a transport failure of the test client itself). */
  failed: number;
  /** Beats skipped because `maxInFlight` requests were still pending. */
  skipped: number;
}

/** A running steady load. */
export interface SteadyLoad {
  readonly report: LoadReport;
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<LoadReport>;
}

/**
 * Calls `send` at a steady rate (drift-corrected beats, at most `maxInFlight` pending) until stopped: the "steady
 * traffic" of guard drills and soaks, where the rate matters and each request's outcome is the caller's to check.
 */
export function startSteadyLoad(options: { ratePerSecond: number; maxInFlight?: number; send: (beat: number) => Promise<void> }): SteadyLoad {
  const intervalMs = 1000 / options.ratePerSecond;
  const maxInFlight = options.maxInFlight ?? 32;
  const report: LoadReport = { sent: 0, failed: 0, skipped: 0 };
  const pending = new Set<Promise<void>>();
  const started = performance.now();
  let beat = 0;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    if (stopped) return;
    const due = Math.floor((performance.now() - started) / intervalMs) + 1;
    for (; beat < due; beat++) {
      if (pending.size >= maxInFlight) {
        report.skipped++;
        continue;
      }
      report.sent++;
      const p = options.send(beat).catch(() => {
        report.failed++;
      });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
    timer = setTimeout(tick, Math.max(1, started + beat * intervalMs - performance.now()));
  };
  tick();
  return {
    report,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all(pending);
      return report;
    },
  };
}
