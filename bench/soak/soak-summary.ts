import { latencySummary } from '../support/stats.js';
import type { FixedRateResult } from './fixed-rate.js';
import type { FlipperStats } from './flipper.js';
import { judge, VERDICTS } from './judge.js';
import type { Verdict } from './judge.js';
import type { DrillKind, DrillWindow, MembershipLedger } from './ledger.js';
import { overlaps } from './ledger.js';
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

export interface SoakSummary {
  seconds: number;
  rate: number;
  platforms: number;
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
  drills: DrillReport[];
  /** `store fallback` lines in the edge log, by stage (Upstash or Neon failures the edge absorbed). */
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
  edgeLogs: readonly string[];
}

function emptyVerdicts(): Record<Verdict, number> {
  return Object.fromEntries(VERDICTS.map((v) => [v, 0])) as Record<Verdict, number>;
}

function describe(outcome: Outcome, verdict: Verdict, origin: number): string {
  const r = outcome.request;
  const at = ((outcome.sentAt - origin) / 1000).toFixed(2);
  const answer = outcome.status === null ? `no answer (${outcome.failure ?? '?'})` : `${outcome.status} ${outcome.errorCode ?? ''} from ${outcome.origin ?? '?'}`;
  return `${verdict}: t=${at}s ${r.kind} ${r.method} ${r.platformId} -> ${answer} after ${(outcome.receivedAt - outcome.sentAt).toFixed(0)} ms`;
}

function storeFallbacks(lines: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) {
    if (!line.includes('"msg":"store fallback"')) continue;
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

/** Judges every answer and folds the run into a summary. */
export function summariseSoak(input: SoakInputs): SoakSummary {
  const verdicts = emptyVerdicts();
  const judged = input.outcomes.map((o) => ({ o, v: judge(o, input.ledger, input.drills) }));
  const origin = input.outcomes.reduce((min, o) => Math.min(min, o.sentAt), Infinity);
  const examples: string[] = [];
  for (const { o, v } of judged) {
    verdicts[v]++;
    if (v !== 'ok' && v !== 'fallback' && v !== 'documented-502' && examples.length < 10) examples.push(describe(o, v, origin));
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
  const ackTimes = flips.filter((f) => f.ackedAt !== null).map((f) => (f.ackedAt ?? 0) - f.startedAt);
  const flipErrors = input.flipper.unexpected + input.flipper.unacked;
  return {
    seconds: input.options.seconds,
    rate: input.options.rate,
    platforms: input.options.platforms + 1,
    sent: input.outcomes.length,
    skipped: input.load.skipped,
    achievedRate: input.load.sent / input.load.seconds,
    verdicts,
    errors: verdicts.lost + verdicts['undocumented-5xx'] + verdicts['unexpected-status'] + input.load.skipped + flipErrors,
    misroutes: verdicts.misroute,
    p50Ms: all.p50,
    p99Ms: all.p99,
    maxMs: all.max,
    flips: { ...input.flipper, windows: flips.length, slowestAckMs: ackTimes.reduce((a, b) => Math.max(a, b), 0) },
    drills,
    storeFallbacks: storeFallbacks(input.edgeLogs),
    examples,
  };
}
