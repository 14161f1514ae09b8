/** What one soak run does (`npm run soak`, and the short soak in `npm test`). */
export interface SoakOptions {
  seconds: number;
  /** Requests per second (open loop). */
  rate: number;
  /** Static platforms besides the flipping one. */
  platforms: number;
  /** Share of the static platforms in the canary cohort. */
  canaryFraction: number;
  /** Share of requests naming the flipping platform. */
  flipShare: number;
  flipIntervalMs: number;
  /** Stop and restart Upstash, Neon and the canary origin during the run. */
  drills: boolean;
  drillSeconds: number;
  log: (line: string) => void;
}
