import { latencySummary } from '../support/stats.js';
import type { ChangeStats } from './admin-change.js';
import type { FixedRateResult } from './fixed-rate.js';
import type { FlipperStats } from './flipper.js';
import type { SoakGuardSettings } from './guard-app.js';
import type { GuardDrillRecord } from './guard-drill.js';
import type { QuarantineDrillRecord } from './quarantine-drill.js';
import { judge, VERDICTS } from './judge.js';
import type { Verdict } from './judge.js';
import type { DrillKind, DrillWindow, MembershipLedger } from './ledger.js';
import { overlaps } from './ledger.js';
import type { RolloutStats } from './rollout-changer.js';
import { platformMix } from './soak-options.js';
import type { SoakOptions } from './soak-options.js';
import type { Outcome } from './send-request.js';

export interface DrillReport {
  kind: DrillKind;
  downSeconds: number;
  /** Requests whose [sent, received] interval overlapped the outage. */
  requests: number;
  verdicts: Record<Verdict, number>;
  p99Ms: number;
  maxMs: number;
}

/** The judge's drills (the canary failing everyone, then one platform), judged by the real judge. */
export interface GuardReport {
  settings: SoakGuardSettings;
  /** The guard paused canary routing during its drill. */
  tripped: boolean;
  /** From the first failing request to the pause's commit (its audit entry's `at`). */
  reactionMs: number | null;
  /** Ticks that started from the failure on, the pausing one included. */
  ticksToPause: number | null;
  /** The pause's audit entry time (ISO). */
  pausedAt: string | null;
  /** From the first attempt of the operator's resume to its 200. */
  resumeAckMs: number | null;
  /** The one-platform drill: quarantined exactly that platform, without a pause (null: it did not run). */
  quarantine: {
    platformId: string;
    quarantined: string[];
    /** From the first failing request to the quarantine's commit (its audit entry's `at`). */
    reactionMs: number | null;
    ticks: number | null;
    /** The canary's injected 500s the platform got before the quarantine held. */
    injected: number;
    readmitAckMs: number | null;
  } | null;
  /** Ticks the guard ran over the whole soak. */
  ticks: number;
  /** The guard's or the drill's failures (each one is an error): no pause, a second pause, extra audit entries... */
  problems: string[];
}

/** The soak's release plan: how it ended, and its transitions (from the judge's app). */
export interface SoakPlanOutcome {
  id: number;
  state: string;
  holdReason: string | null;
  transitions: { transition: string; percent: number | null; reason: string }[];
}

export interface SoakSummary {
  seconds: number;
  rate: number;
  platforms: number;
  /** The static platforms: explicit choices (pinned in, kept out) and those following the rollout. */
  mix: { pinned: number; keptOut: number; following: number };
  /** Requests sent (warm-up included) and requests the driver could not send because too many were in flight. */
  sent: number;
  skipped: number;
  achievedRate: number;
  verdicts: Record<Verdict, number>;
  /** lost + undocumented 5xx + unexpected statuses + skipped + flips that misbehaved. */
  errors: number;
  misroutes: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  flips: FlipperStats & { windows: number; slowestAckMs: number };
  /** Rollout changes (null: the changer was off). */
  rollout: (RolloutStats & { windows: number; slowestAckMs: number; intervalMs: number }) | null;
  drills: DrillReport[];
  guard: GuardReport | null;
  /** The release plan run beside the drills (null: none). */
  plan: SoakPlanOutcome | null;
  /** `store error` lines in the edge log, by stage (Upstash or Neon failures the edge absorbed). */
  storeFallbacks: Record<string, number>;
  /** The first few failures, for diagnosis. */
  examples: string[];
}

export interface SoakInputs {
  options: SoakOptions;
  load: FixedRateResult;
  outcomes: Outcome[];
  ledger: MembershipLedger;
  drills: DrillWindow[];
  flipper: FlipperStats;
  rollout: RolloutStats | null;
  plan?: SoakPlanOutcome | null;
  guard: { settings: SoakGuardSettings; drill: GuardDrillRecord | null; quarantine: QuarantineDrillRecord | null; ticks: number; problems: string[] } | null;
  edgeLogs: readonly string[];
}

function emptyVerdicts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

function describe(outcome: Outcome, verdict: Verdict, origin: number, ledger: MembershipLedger): string {
  const r = outcome.request;
  const at = ((outcome.sentAt - origin) / 1000).toFixed(2);
  const answer = outcome.status === null ? `no answer (${outcome.failure ?? '?'})` : `${outcome.status} ${outcome.errorCode ?? ''} from ${outcome.origin ?? '?'}`;
  const state = verdict === 'misroute' ? ` (acceptable states: ${ledger.explain(r.platformId, outcome.sentAt, outcome.receivedAt)})` : '';
  return `${verdict}: t=${at}s ${r.kind} ${r.method} ${r.platformId} -> ${answer} after ${(outcome.receivedAt - outcome.sentAt).toFixed(0)} ms${state}`;
}

function storeFallbacks(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    // The edge logs each store failure it absorbs as `store error` (earlier versions: `store fallback`).
    if (!line.includes('"msg":"store error"') && !line.includes('"msg":"store fallback"')) continue;
    try {
      const stage = (JSON.parse(line) as { stage?: unknown }).stage;
      const key = typeof stage === 'string' ? stage : '?';
      counts[key] = (counts[key] ?? 0) + 1;
    } catch {
      counts['?'] = (counts['?'] ?? 0) + 1;
    }
  }
  return counts;
}

/** The slowest acknowledgement (first attempt to 200) of a list of change windows; 0 when none was acknowledged. */
function slowestAck(windows: readonly { startedAt: number; ackedAt: number | null }[]): number {
  return windows.reduce((max, w) => (w.ackedAt === null ? max : Math.max(max, w.ackedAt - w.startedAt)), 0);
}

/** Changes that went wrong: answers other than 200/503, and changes never acknowledged. */
function changeErrors(stats: ChangeStats | null): number {
  return stats === null ? 0 : stats.unexpected + stats.unacked;
}

/** The guard drill's figures; the reaction starts at the first request that failed on the stopped canary. */
function guardReport(input: NonNullable<SoakInputs['guard']>, judged: readonly { o: Outcome; v: Verdict }[]): GuardReport {
  const drill = input.drill;
  const q = input.quarantine;
  const problems = [...(drill?.problems ?? []), ...(q?.problems ?? []), ...input.problems];
  if (drill === null) problems.push('the guard drill did not run');
  if (q === null) problems.push('the quarantine drill did not run');
  if (q !== null && q.readmitStats.unexpected > 0) problems.push(`pinning the platform back in after the quarantine drill got ${q.readmitStats.unexpected} unexpected answer(s)`);
  let reactionMs: number | null = null;
  if (drill !== null && drill.pausedAt !== null) {
    const pausedAt = drill.pausedAt;
    const failures = judged.filter(({ o, v }) => (v === 'fallback' || v === 'documented-502') && overlaps(drill.window, o.sentAt, o.receivedAt) && o.sentAt <= pausedAt);
    const first = failures.reduce((min, { o }) => Math.min(min, o.sentAt), Infinity);
    reactionMs = pausedAt - (Number.isFinite(first) ? first : drill.window.startedAt);
  }
  const resume = drill?.resume ?? null;
  // A resume never acknowledged is already one of the drill's problems; unexpected answers on the way are not.
  if (drill !== null && drill.resumeStats.unexpected > 0) problems.push(`the resume after the guard drill got ${drill.resumeStats.unexpected} unexpected answer(s)`);
  const injected = q === null ? [] : judged.filter(({ o, v }) => v === 'injected-500' && o.request.platformId === q.platformId);
  const firstInjected = injected.reduce((min, { o }) => Math.min(min, o.sentAt), Infinity);
  return {
    quarantine:
      q === null
        ? null
        : {
            platformId: q.platformId,
            quarantined: q.tick?.quarantined ?? [],
            reactionMs: q.quarantinedAt === null ? null : q.quarantinedAt - (Number.isFinite(firstInjected) ? firstInjected : q.window.startedAt),
            ticks: q.ticksToQuarantine,
            injected: injected.length,
            readmitAckMs: q.readmit === null || q.readmit.ackedAt === null ? null : q.readmit.ackedAt - q.readmit.startedAt,
          },
    settings: input.settings,
    tripped: drill?.pauseTick !== null && drill?.pauseTick !== undefined,
    reactionMs,
    ticksToPause: drill?.ticksToPause ?? null,
    pausedAt: drill?.pauseAudit?.at ?? null,
    resumeAckMs: resume === null || resume.ackedAt === null ? null : resume.ackedAt - resume.startedAt,
    ticks: input.ticks,
    problems,
  };
}

/** Judges every answer and folds the run into a summary. */
export async function summariseSoak(input: SoakInputs): Promise<SoakSummary> {
  const verdicts = emptyVerdicts();
  const judged: { o: Outcome; v: Verdict }[] = [];
  for (const o of input.outcomes) judged.push({ o, v: await judge(o, input.ledger, input.drills) });
  const origin = input.outcomes.reduce((min, o) => Math.min(min, o.sentAt), Infinity);
  const examples: string[] = [];
  for (const { o, v } of judged) {
    verdicts[v]++;
    if (v !== 'ok' && v !== 'fallback' && v !== 'documented-502' && v !== 'injected-500' && examples.length < 10) examples.push(describe(o, v, origin, input.ledger));
  }
  const latency = (list: readonly Outcome[]): { p50: number; p99: number; max: number } => {
    const answered = list.filter((o) => o.status !== null).map((o) => o.receivedAt - o.sentAt);
    return { ...latencySummary(answered), max: answered.length === 0 ? Number.NaN : answered.reduce((a, b) => Math.max(a, b), 0) };
  };
  const all = latency(input.outcomes);
  const drills = input.drills.map((w): DrillReport => {
    const inside = judged.filter(({ o }) => overlaps(w, o.sentAt, o.receivedAt));
    const counts = emptyVerdicts();
    for (const { v } of inside) counts[v]++;
    const l = latency(inside.map(({ o }) => o));
    return { kind: w.kind, downSeconds: ((w.endedAt ?? w.startedAt) - w.startedAt) / 1000, requests: inside.length, verdicts: counts, p99Ms: l.p99, maxMs: l.max };
  });
  const flips = input.ledger.flips();
  const rollouts = input.ledger.rollouts();
  const guard = input.guard === null ? null : guardReport(input.guard, judged);
  const changeFailures = changeErrors(input.flipper) + changeErrors(input.rollout) + (guard?.problems.length ?? 0);
  return {
    seconds: input.options.seconds,
    rate: input.options.rate,
    platforms: input.options.platforms + 1,
    mix: platformMix(input.options),
    sent: input.outcomes.length,
    skipped: input.load.skipped,
    achievedRate: input.load.sent / input.load.seconds,
    verdicts,
    errors: verdicts.lost + verdicts['undocumented-5xx'] + verdicts['unexpected-status'] + input.load.skipped + changeFailures,
    misroutes: verdicts.misroute,
    p50Ms: all.p50,
    p99Ms: all.p99,
    maxMs: all.max,
    flips: { ...input.flipper, windows: flips.length, slowestAckMs: slowestAck(flips) },
    rollout:
      input.rollout === null
        ? null
        : { ...input.rollout, windows: rollouts.length, slowestAckMs: slowestAck(rollouts), intervalMs: input.options.rolloutIntervalMs ?? 5_000 },
    drills,
    guard,
    plan: input.plan ?? null,
    storeFallbacks: storeFallbacks(input.edgeLogs),
    examples,
  };
}
