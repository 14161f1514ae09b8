import type { JudgeSettings } from '../../core/judge/judge-settings.js';
import type { Config } from '../config.js';

/** The judge's settings from the origin's configuration (CANARY_GUARD_* and CANARY_JUDGE_*). */
export function judgeSettingsOf(config: Config): JudgeSettings {
  return {
    enabled: config.guardEnabled,
    intervalSeconds: config.guardIntervalSeconds,
    windowSeconds: config.guardWindowSeconds,
    minRequests: config.guardMinRequests,
    minJobs: config.judgeMinJobs,
    maxErrorRate: config.guardMaxErrorRate,
    maxPlatformShare: config.judgeMaxPlatformShare,
    minPlatforms: config.judgeMinPlatforms,
    errorTolerance: config.judgeErrorTolerance,
    latencyTolerance: config.judgeLatencyTolerance,
    latencyFloorMs: config.judgeLatencyFloorMs,
    confidenceZ: config.judgeConfidenceZ,
  };
}
