export interface FixedRateOptions {
  /** Requests per second. */
  rate: number;
  seconds: number;
  /** Starts request number `n`; resolves when it has its outcome. */
  launch: (n: number) => Promise<void>;
  /** Requests beyond this many in flight are not sent but counted as `skipped` (the target is not keeping up). */
  maxInFlight: number;
}

export interface FixedRateResult {
  sent: number;
  skipped: number;
  seconds: number;
}

const TICK_MS = 5;

/**
 * An open-loop load: request n is due at n / rate seconds, whatever the answers' latency (a closed loop would slow
 * down exactly when the target struggles and hide it). Bounded by count (rate × seconds) and by time.
 */
export async function driveFixedRate(options: FixedRateOptions): Promise<FixedRateResult> {
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  const hardStop = started + options.seconds * 1000 + 5_000;
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  let skipped = 0;
  while (sent + skipped < total && performance.now() < hardStop) {
    const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * options.rate) + 1);
    while (sent + skipped < due) {
      const n = sent + skipped;
      if (inFlight.size >= options.maxInFlight) {
        skipped++;
        continue;
      }
      sent++;
      const p = options.launch(n).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
  }
  await Promise.all(inFlight);
  return { sent, skipped, seconds: (performance.now() - started) / 1000 };
}
