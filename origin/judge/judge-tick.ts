import { judge } from '../../core/judge/judge.js';
import type { ArmSignals, JudgeOutcome } from '../../core/judge/judge.js';
import type { JudgeRecord } from '../../core/judge/judge-record.js';
import type { JudgeSettings } from '../../core/judge/judge-settings.js';
import type { CanaryControl } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';
import type { SignalWindow } from './signal-window.js';

/** Name (and scheduler id) of the judge's repeatable job on `system-job-queue` (the guard's, whose rule it replaces). */
export const JUDGE_TICK = 'canary-guard';

/** Who the judge is in the audit log (reserved: no API caller can record under it). */
export const JUDGE_ACTOR = 'judge';

export interface JudgeTickDeps {
  /** The signals over the window (Redis). */
  readWindow(nowMs: number, windowSeconds: number): Promise<SignalWindow>;
  /** Keeps the record for operators (Redis). */
  saveRecord(record: JudgeRecord): Promise<void>;
  control: Pick<CanaryControl, 'rollout' | 'quarantined' | 'setChoice' | 'setPaused'>;
  settings: JudgeSettings;
  logger: Logger;
  /** Told of every quarantine and pause the judge makes (notifications). */
  onAction?(event: { kind: 'quarantine' | 'pause'; platforms: string[]; reason: string; evidence: Record<string, unknown> }): Promise<void>;
}

function without(arm: ArmSignals, platforms: ReadonlySet<string>): ArmSignals {
  const keep = <T>(m: ReadonlyMap<string, T>): Map<string, T> => new Map([...m].filter(([id]) => !platforms.has(id)));
  return { requests: keep(arm.requests), jobs: keep(arm.jobs) };
}

/** The evidence an audit entry and a notification carry: the failing metrics, with their numbers and drivers. */
function evidenceOf(outcome: JudgeOutcome, windowSeconds: number): Record<string, unknown> {
  const failing = Object.values(outcome.metrics).filter((m) => m.verdict === 'fail');
  return {
    windowSeconds,
    metrics: Object.fromEntries(failing.map((m) => [m.metric, { reason: m.reason, canary: m.canary, baseline: m.baseline, reference: m.reference, z: m.z, drivers: m.drivers, concentratedIn: m.concentratedIn }])),
  };
}

function reasonOf(outcome: JudgeOutcome): string {
  const failing = Object.values(outcome.metrics).filter((m) => m.verdict === 'fail');
  return `judge: ${failing.map((m) => `${m.metric}: ${m.reason}`).join('; ')}`;
}

/**
 * One judge tick (DESIGN §8): reads the pause state and the quarantined platforms (Postgres), then the window
 * (Redis); judges the canary arm (quarantined platforms left out: they are not on the canary any more) against the
 * baseline; quarantines the platforms a concentrated failure names, or pauses on a broad one, through the operator
 * plane's own path (audited by `judge` with the evidence). It never resumes or releases by itself, and decides nothing
 * while paused, when a store cannot be reached, or on counters it cannot read — saying so in the record.
 */
export async function runJudgeTick(deps: JudgeTickDeps, tick: { nowMs?: number; jobId?: string } = {}): Promise<JudgeRecord> {
  const { settings, logger } = deps;
  const nowMs = tick.nowMs ?? Date.now();
  const base = { at: new Date(nowMs).toISOString(), windowSeconds: settings.windowSeconds, settings, quarantined: [] as string[], metrics: null };
  const finish = async (record: JudgeRecord): Promise<JudgeRecord> => {
    try {
      await deps.saveRecord(record);
    } catch (error) {
      logger.error('the judge could not save its record (Redis)', { error, verdict: record.verdict });
    }
    logger.info('judge tick', { jobId: tick.jobId ?? null, at: record.at, verdict: record.verdict, action: record.action, quarantined: record.quarantined, problem: record.problem });
    return record;
  };
  if (!settings.enabled) return finish({ ...base, verdict: 'disabled', action: 'none', problem: null });

  // The pause state first, then the window: a resume drops the window before it commits, so a tick that saw "not
  // paused" reads a window the resume already reset, and one that saw "paused" leaves it alone.
  let paused: boolean;
  let quarantined: Set<string>;
  try {
    paused = (await deps.control.rollout()).paused;
    quarantined = new Set((await deps.control.quarantined()).map((q) => q.platformId));
  } catch (error) {
    logger.error('the judge decided nothing: Postgres is unreachable', { error });
    return finish({ ...base, verdict: 'error', action: 'none', problem: 'Postgres is unreachable: nothing was decided' });
  }
  let window: SignalWindow;
  try {
    window = await deps.readWindow(nowMs, settings.windowSeconds);
  } catch (error) {
    logger.error('the judge decided nothing: Redis is unreachable', { error });
    return finish({ ...base, verdict: 'error', action: 'none', problem: 'Redis is unreachable: nothing was decided' });
  }
  const outcome = judge({ canary: without(window.canary, quarantined), baseline: window.baseline }, settings);
  const judged = { ...base, metrics: outcome.metrics };
  if (window.garbage > 0) {
    logger.error('the judge decided nothing: some counters are not readable', { garbage: window.garbage, fields: window.fields });
    return finish({ ...judged, verdict: 'inconclusive', action: 'none', problem: `${window.garbage} of ${window.fields} counters were not readable: nothing was decided` });
  }
  if (paused) return finish({ ...judged, verdict: 'paused', action: 'none', problem: null });
  if (outcome.action.kind === 'none') return finish({ ...judged, verdict: outcome.verdict, action: 'none', problem: null });

  const reason = reasonOf(outcome);
  const evidence = evidenceOf(outcome, settings.windowSeconds);
  const meta = { actor: JUDGE_ACTOR, reason: reason.slice(0, 500) };
  if (outcome.action.kind === 'quarantine') {
    const done: string[] = [];
    for (const platformId of outcome.action.platforms) {
      const applied = await deps.control.setChoice(platformId, false, meta, 'quarantine', evidence);
      if (applied === null) continue;
      done.push(platformId);
      if (!applied.invalidated) logger.error('the judge quarantined a platform in Postgres but could not update the routing cache; edges follow within 60 s', { platformId });
    }
    logger.error('the judge quarantined canary platforms', { platforms: done, reason });
    await deps.onAction?.({ kind: 'quarantine', platforms: done, reason, evidence });
    return finish({ ...judged, verdict: outcome.verdict, action: 'quarantined', quarantined: done, problem: null });
  }
  const applied = await deps.control.setPaused(true, meta, { evidence, onlyIfChanged: true });
  if (applied.value.changed) {
    logger.error('the judge paused canary routing', { reason });
    await deps.onAction?.({ kind: 'pause', platforms: [], reason, evidence });
  }
  if (!applied.invalidated) logger.error('the judge paused routing in Postgres but could not invalidate the cache; edges follow within 60 s');
  return finish({ ...judged, verdict: outcome.verdict, action: applied.value.changed ? 'paused' : 'none', problem: null });
}
