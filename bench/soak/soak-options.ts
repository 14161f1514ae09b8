import type { SoakGuardSettings } from './guard-app.js';

/** What one soak run does (`npm run soak`, and the short soak in `npm test`). */
export interface SoakOptions {
  seconds: number;
  /** Requests per second (open loop). */
  rate: number;
  /** Static platforms besides the flipping one. */
  platforms: number;
  /** Share of the static platforms without an explicit choice: they follow the rollout (default 0.5). */
  followShare?: number;
  /** Share of the static platforms with an explicit choice that are pinned in (the others are kept out). */
  canaryFraction: number;
  /** Share of requests naming the flipping platform. */
  flipShare: number;
  flipIntervalMs: number;
  /** How often the rollout percentage changes (0: never; it stays at the start percentage). Default 5000. */
  rolloutIntervalMs?: number;
  /** Stop and restart Upstash, Neon and the canary origin during the run. */
  drills: boolean;
  drillSeconds: number;
  /** With `drills`: also the canary failure drill, against a real origin app's health guard (default true). */
  guardDrill?: boolean;
  /** The guard's settings (default SOAK_GUARD). */
  guard?: SoakGuardSettings;
  /**
   * With the judge's app: run a release plan (SOAK_PLAN steps, short bakes) instead of the rollout changer; its
   * transitions go into the ledger, and the report says how it ended and why.
   */
  plan?: boolean;
  log: (line: string) => void;
}

/** How the static platforms are split: pinned in, kept out (both explicit choices), and following the rollout. */
export function platformMix(options: Pick<SoakOptions, 'platforms' | 'followShare' | 'canaryFraction'>): { pinned: number; keptOut: number; following: number } {
  const following = Math.round(options.platforms * (options.followShare ?? 0.5));
  const explicit = options.platforms - following;
  const pinned = Math.round(explicit * options.canaryFraction);
  return { pinned, keptOut: explicit - pinned, following };
}

/** A number ≥ 0 from the environment (`fallback` when unset or empty), where 0 means "off"; a clear error otherwise. */
export function nonNegativeEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a number ≥ 0 (0 = off), got ${raw}`);
  return value;
}

/** The release plan a soak runs: three rollout steps with short bakes (the judge's tick is one second in the soak). */
export const SOAK_PLAN = { steps: [{ percent: 10, bakeSeconds: 2 }, { percent: 30, bakeSeconds: 2 }, { percent: 60, bakeSeconds: 0 }], maxBakeSeconds: 30, reason: 'soak' } as const;
