import { fixed, int, ms, table } from '../report/format.js';
import type { SoakSummary } from './soak-summary.js';

const DRILL_LABEL = { upstash: 'Upstash endpoint stopped', neon: 'Neon endpoint stopped', canary: 'canary origin stopped' } as const;

/** The soak's markdown summary (printed, and written to BENCHMARKS.md). */
export function renderSoakReport(s: SoakSummary, startedAt: Date, machine: string): string {
  const pass = s.errors === 0 && s.misroutes === 0;
  const v = s.verdicts;
  const lines = [
    `## Latest soak run — ${startedAt.toISOString()}`,
    '',
    `Machine: ${machine}`,
    '',
    `Result: **${pass ? 'PASS' : 'FAIL'}** — errors **${int(s.errors)}**, misroutes **${int(s.misroutes)}** ` +
      `(exit code ${pass ? 0 : 1}).`,
    '',
    `Load: ${int(s.rate)} req/s for ${s.seconds} s (achieved ${fixed(s.achievedRate, 1)} req/s, ${int(s.skipped)} not sent), ` +
      `${int(s.platforms)} platforms (60% JWT GET, 20% API-key GET, 20% webhook POST); one platform flipped every second through the admin route.`,
    '',
    table(
      ['answers', 'ok', 'fallback (documented)', '502 canary_unavailable (documented)', 'lost', 'misroute', 'undocumented 5xx', 'other status', 'p50 ms', 'p99 ms', 'max ms'],
      [[int(s.sent), int(v.ok), int(v.fallback), int(v['documented-502']), int(v.lost), int(v.misroute), int(v['undocumented-5xx']), int(v['unexpected-status']), ms(s.p50Ms), ms(s.p99Ms), ms(s.maxMs)]],
    ),
    '',
    `Flips: ${int(s.flips.windows)} started, ${int(s.flips.acked)} acknowledged (slowest ${int(s.flips.slowestAckMs)} ms from first attempt to 200), ` +
      `${int(s.flips.retried503)} 503 answers retried, ${int(s.flips.unexpected)} unexpected answers, ${int(s.flips.unacked)} never acknowledged.`,
  ];
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
  const fallbacks = Object.entries(s.storeFallbacks).map(([stage, n]) => `${stage} ${int(n)}`).join(', ');
  lines.push('', `Edge store fallbacks logged: ${fallbacks === '' ? 'none' : fallbacks}.`);
  if (s.examples.length > 0) lines.push('', 'First failures:', '', ...s.examples.map((e) => `- ${e}`));
  return lines.join('\n');
}
