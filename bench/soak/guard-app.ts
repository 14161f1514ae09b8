import { randomUUID } from 'node:crypto';
import type { JudgeSettings } from '../../core/judge/judge-settings.js';
import { startOriginApp } from '../../dev/origin/origin-processes.js';
import type { StartedApp } from '../../dev/origin/origin-processes.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

/** The judge's settings in the soak (origin env CANARY_GUARD_*; the judge is always enabled; CANARY_JUDGE_* defaults). */
export type SoakGuardSettings = Pick<JudgeSettings, 'intervalSeconds' | 'windowSeconds' | 'minRequests' | 'maxErrorRate'>;

/**
 * A judge that ticks every second over a one-minute window, judging as soon as the canary has 50 requests in it (a
 * second or so of the soak's canary traffic).
 */
export const SOAK_GUARD: SoakGuardSettings = { intervalSeconds: 1, windowSeconds: 60, minRequests: 50, maxErrorRate: 0.05 };

/** One `judge tick` line of the judge's app. */
export interface GuardTick {
  jobId: string | null;
  /** When the tick started (the app's clock, ISO), before it read the window or changed anything. */
  at: string;
  atMs: number;
  verdict: string;
  action: string;
  /** The platforms this tick quarantined. */
  quarantined: string[];
  /** performance.now() when the soak read the line: the tick (and any pause it made, cache invalidated) was done. */
  observedAt: number;
}

/** performance.now() of a wall-clock time (ms since the epoch) of this machine: Postgres' now(), another process's Date.now(). */
export function wallToPerf(wallMs: number): number {
  return wallMs - (Date.now() - performance.now());
}

function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

/** One `plan transition` line of the judge's app: a release plan's step, hold, abort or completion. */
export interface PlanTransitionLine {
  /** When the plan tick started (the app's clock), before it wrote the transition. */
  atMs: number;
  transition: string;
  state: string;
  /** The rollout the transition set (basis points), or null. */
  rolloutBasisPoints: number | null;
  reason: string;
  /** performance.now() when the soak read the line: the transition was committed and the routing cache invalidated. */
  observedAt: number;
}

/**
 * One real origin APP process run only for its judge (the repeatable `canary-guard` job on `system-job-queue`), on the
 * harness's own Redis database and Postgres database, so it judges exactly the signals the edge under test writes and
 * pauses or quarantines through the same Postgres rows the edge reads. Its HTTP port serves no traffic.
 */
export class GuardApp {
  readonly ticks: GuardTick[] = [];
  /** The release plan's transitions (its tick runs right after the judge's). */
  readonly planTransitions: PlanTransitionLine[] = [];
  /** Error-level lines of the app (a pause, a failed cache invalidation, a crash). */
  readonly errorLines: string[] = [];
  /** performance.now() when the app was stopped (null while it runs). */
  retiredAt: number | null = null;
  #app: StartedApp | null = null;

  private constructor(readonly settings: SoakGuardSettings) {}

  /** Starts the app and resolves once its guard has ticked (so a drill measures the guard, not the app's start). */
  static async start(h: EdgeHarness, settings: SoakGuardSettings = SOAK_GUARD, readyTimeoutMs = 60_000): Promise<GuardApp> {
    const guard = new GuardApp(settings);
    const topology = {
      redisUrl: h.redisDb.url,
      postgresUrl: h.db.url,
      jwtSecret: h.jwtSecret,
      workerSecret: `ws_${randomUUID()}`,
      socketIoRedisKey: `socket.io-soak-${randomUUID().slice(0, 8)}`,
      extra: {
        CANARY_GUARD_INTERVAL_SECONDS: String(settings.intervalSeconds),
        CANARY_GUARD_WINDOW_SECONDS: String(settings.windowSeconds),
        CANARY_GUARD_MIN_REQUESTS: String(settings.minRequests),
        CANARY_GUARD_MAX_ERROR_RATE: String(settings.maxErrorRate),
      },
      onLine: (raw: string) => guard.#onLine(raw),
    };
    guard.#app = await startOriginApp(topology, { name: 'soak-guard-app', version: 'soak-guard' });
    if ((await guard.waitForTick(() => true, readyTimeoutMs)) === null) {
      await guard.retire();
      throw new Error(`the guard app did not tick within ${readyTimeoutMs} ms`);
    }
    return guard;
  }

  /** Polls (every 20 ms) for the first tick matching `predicate`; null after `timeoutMs`. */
  async waitForTick(predicate: (tick: GuardTick) => boolean, timeoutMs: number): Promise<GuardTick | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const found = this.ticks.find(predicate);
      if (found !== undefined) return found;
      if (performance.now() > deadline || this.retiredAt !== null) return null;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Stops the app (SIGTERM, then SIGKILL after a grace); idempotent. */
  async retire(): Promise<void> {
    if (this.retiredAt !== null) return;
    this.retiredAt = performance.now();
    await this.#app?.close();
  }

  #onLine(raw: string): void {
    if (!raw.startsWith('{')) return;
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return;
    }
    if (line.msg === 'judge tick') {
      const at = str(line.at);
      this.ticks.push({
        jobId: typeof line.jobId === 'string' ? line.jobId : null,
        at,
        atMs: Date.parse(at),
        verdict: str(line.verdict),
        action: str(line.action),
        quarantined: Array.isArray(line.quarantined) ? line.quarantined.filter((p): p is string => typeof p === 'string') : [],
        observedAt: performance.now(),
      });
    }
    if (line.msg === 'plan transition') {
      this.planTransitions.push({
        atMs: Date.parse(str(line.at)),
        transition: str(line.transition),
        state: str(line.state),
        rolloutBasisPoints: typeof line.rolloutBasisPoints === 'number' ? line.rolloutBasisPoints : null,
        reason: str(line.reason),
        observedAt: performance.now(),
      });
    }
    if (line.level === 'error') this.errorLines.push(str(line.msg));
  }
}
