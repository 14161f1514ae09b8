/** A judge ticking fast over a short window, for end-to-end drills: the origin env that sets it (CANARY_GUARD_*). */
export interface DrillJudge {
  intervalSeconds: number;
  windowSeconds: number;
  minRequests: number;
}

/** The origin env of a drill's judge. */
export function judgeEnv(judge: DrillJudge): Record<string, string> {
  return {
    CANARY_GUARD_INTERVAL_SECONDS: String(judge.intervalSeconds),
    CANARY_GUARD_WINDOW_SECONDS: String(judge.windowSeconds),
    CANARY_GUARD_MIN_REQUESTS: String(judge.minRequests),
  };
}
