import { fixed, int, ms, table } from '../report/format.js';
import { ROLLOUT_SEQUENCE, ROLLOUT_START_PERCENT } from './rollout-changer.js';
import type { GuardReport, SoakSummary } from './soak-summary.js';

const DRILL_LABEL = {
  guard: 'canary fails everyone (judge)',
  quarantine: 'canary fails one platform (judge)',
  upstash: 'Upstash endpoint stopped',
  neon: 'Neon endpoint stopped',
  canary: 'canary origin stopped',
} as const;

function guardLines(g: GuardReport): string[] {
  const s = g.settings;
  const q = g.quarantine;
  const lines = [
    '',
    `Judge: one real origin app runs the judge (\`canary-guard\` on \`system-job-queue\`; CANARY_GUARD_INTERVAL_SECONDS=${s.intervalSeconds}, ` +
      `CANARY_GUARD_WINDOW_SECONDS=${s.windowSeconds}, CANARY_GUARD_MIN_REQUESTS=${s.minRequests}, the other CANARY_JUDGE_* at their defaults). ` +
      'In the drill "canary fails everyone" the canary origin is stopped (canary GETs fall back to the primary, other canary requests get ' +
      '`502 canary_unavailable`; the edge counts both as canary errors) until the judge pauses canary routing; then the canary is restarted, ' +
      "its signals settled, and routing resumed through `POST /v1/admin/canary/resume` (which starts the judge's window afresh). " +
      'In the drill "canary fails one platform" the canary answers `500` to every request of one pinned platform until the judge quarantines it; ' +
      'then the canary is fixed, the signals settled, and the platform pinned back in (which drops its old canary evidence). A second action by the judge would be an error.',
    '',
    g.tripped
      ? `Broad failure: paused **${int(g.reactionMs)} ms** from the first failing request to the pause's commit (audit entry by \`judge\` at ${g.pausedAt ?? '—'}), ` +
        `on tick **${int(g.ticksToPause)}** after the failure; resume acknowledged in ${int(g.resumeAckMs)} ms. ` +
        'The ledger holds every request sent after the pause was seen (its tick logged, the routing cache invalidated) to the primary, whatever ' +
        'the platform; a request overlapping the pause (from the start of the tick that made it) or the resume may land on either side.'
      : 'Broad failure: **the judge did not pause**.',
    '',
    q === null || q.ticks === null
      ? 'One-platform failure: **the judge did not quarantine**.'
      : `One-platform failure: quarantined **${q.quarantined.join(', ')}** (the failing platform: ${q.platformId}), no pause, ` +
        `**${int(q.reactionMs)} ms** from its first failing request to the quarantine's commit, on tick **${int(q.ticks)}**, after ${int(q.injected)} injected 500s; ` +
        `pinned back in, acknowledged in ${int(q.readmitAckMs)} ms. The ledger holds the platform to the primary from the start of the tick that quarantined it.`,
    '',
    `The judge ticked ${int(g.ticks)} times; it runs from before the load until the "canary origin stopped" drill, which it would ` +
      'rightly pause too (that drill documents the edge without a judge). Audit entries by `judge` other than the drills\' one pause and one quarantine, ' +
      `and actions outside the drills, are errors: ${g.problems.length === 0 ? 'none' : g.problems.map((p) => `\n- ${p}`).join('')}.`,
  ];
  return lines;
}

/** The soak's markdown summary (printed, and written to BENCHMARKS.md). */
export function renderSoakReport(s: SoakSummary, startedAt: Date, machine: string): string {
  const pass = s.errors === 0 && s.misroutes === 0;
  const v = s.verdicts;
  const rolloutLoad =
    s.rollout === null
      ? s.plan === null
        ? `the rollout stays at ${ROLLOUT_START_PERCENT}%`
        : `the rollout starts at ${ROLLOUT_START_PERCENT}% and a release plan sets it from there (below)`
      : `the rollout percentage changes every ${fixed(s.rollout.intervalMs / 1000, 0)} s through the admin route (${ROLLOUT_START_PERCENT}% at the start, then ${ROLLOUT_SEQUENCE.join(', ')}, again)`;
  const lines = [
    `## Latest soak run — ${startedAt.toISOString()}`,
    '',
    `Machine: ${machine}`,
    '',
    `Result: **${pass ? 'PASS' : 'FAIL'}** — errors **${int(s.errors)}**, misroutes **${int(s.misroutes)}** ` +
      `(exit code ${pass ? 0 : 1}).`,
    '',
    `Load: ${int(s.rate)} req/s for ${s.seconds} s (achieved ${fixed(s.achievedRate, 1)} req/s, ${int(s.skipped)} not sent), ` +
      `${int(s.platforms)} platforms (60% JWT GET, 20% API-key GET, 20% webhook POST): ${int(s.mix.pinned)} pinned in, ${int(s.mix.keptOut)} kept out, ` +
      `${int(s.mix.following)} without an explicit choice (they follow the rollout), and one whose explicit choice flipped every second through the admin route; ` +
      `${rolloutLoad}. Each answer is judged against the acknowledged state (explicit choice, else the rollout bucket; pause overrules both).`,
    '',
    table(
      ['answers', 'ok', 'fallback (documented)', '502 canary_unavailable (documented)', '500 injected (quarantine drill)', 'lost', 'misroute', 'undocumented 5xx', 'other status', 'p50 ms', 'p99 ms', 'max ms'],
      [[int(s.sent), int(v.ok), int(v.fallback), int(v['documented-502']), int(v['injected-500']), int(v.lost), int(v.misroute), int(v['undocumented-5xx']), int(v['unexpected-status']), ms(s.p50Ms), ms(s.p99Ms), ms(s.maxMs)]],
    ),
    '',
    `Flips: ${int(s.flips.windows)} started, ${int(s.flips.acked)} acknowledged (slowest ${int(s.flips.slowestAckMs)} ms from first attempt to 200), ` +
      `${int(s.flips.retried503)} 503 answers retried, ${int(s.flips.unexpected)} unexpected answers, ${int(s.flips.unacked)} never acknowledged.`,
  ];
  if (s.rollout !== null) {
    const r = s.rollout;
    lines.push(
      '',
      `Rollout changes: ${int(r.windows)} started, ${int(r.acked)} acknowledged (slowest ${int(r.slowestAckMs)} ms from first attempt to 200), ` +
        `${int(r.retried503)} 503 answers retried, ${int(r.unexpected)} unexpected answers, ${int(r.unacked)} never acknowledged.`,
    );
  }
  if (s.drills.length > 0) {
    lines.push(
      '',
      'Fault drills (requests whose send–answer interval overlapped the outage):',
      '',
      table(
        ['drill', 'down s', 'requests', 'lost', 'ok', 'fallback', '502 documented', 'misroute', 'undocumented 5xx', 'p99 ms', 'max ms'],
        s.drills.map((d) => [
          DRILL_LABEL[d.kind],
          fixed(d.downSeconds, 1),
          int(d.requests),
          int(d.verdicts.lost),
          int(d.verdicts.ok),
          int(d.verdicts.fallback),
          int(d.verdicts['documented-502']),
          int(d.verdicts.misroute),
          int(d.verdicts['undocumented-5xx']),
          ms(d.p99Ms),
          ms(d.maxMs),
        ]),
      ),
    );
  }
  if (s.guard !== null) lines.push(...guardLines(s.guard));
  if (s.plan !== null) {
    const p = s.plan;
    lines.push(
      '',
      `Release plan ${p.id} (10% → 30% → 60%, bakes of 2 s, started with the load at a rollout of ${ROLLOUT_START_PERCENT}%, which a step never lowers; the rollout changer is off beside it): ended **${p.state}**` +
        `${p.holdReason === null ? '' : ` (${p.holdReason})`}. Its transitions: ${p.transitions.map((t) => `${t.transition}${t.percent === null ? '' : ` → ${t.percent}%`}`).join(', ') || 'none'}` +
        `${p.transitions.at(-1)?.reason === undefined ? '' : `; the last one's reason: ${p.transitions.at(-1)?.reason}`}. ` +
        'Each rollout it set is in the ledger from the start of the tick that set it.',
    );
  }
  const fallbacks = Object.entries(s.storeFallbacks).map(([stage, n]) => `${stage} ${int(n)}`).join(', ');
  lines.push('', `Edge store fallbacks logged: ${fallbacks === '' ? 'none' : fallbacks}.`);
  if (s.examples.length > 0) lines.push('', 'First failures:', '', ...s.examples.map((e) => `- ${e}`));
  return lines.join('\n');
}
