import { lookup } from './aggregate.js';
import type { CellSummary } from './aggregate.js';
import type { BenchRun } from './bench-run.js';
import { cohortReloads } from '../load/edge-trace.js';
import type { InterleavedRatio } from '../load/interleaved-ratio.js';
import { renderFlipMemory } from '../flip-memory/render-flip-memory.js';
import { renderStepMove } from '../flip-memory/render-step-move.js';
import { renderHandover } from '../handover/render-handover.js';
import { STEP_MOVE_GOAL } from '../flip-memory/measure-step-move.js';
import { median } from '../support/stats.js';
import { fixed, int, ms, percent, ratio, table } from './format.js';

function verdict(met: boolean): string {
  return met ? '**met**' : '**MISSED**';
}

function middleOf(run: BenchRun): number {
  return run.config.connections[Math.floor(run.config.connections.length / 2)] ?? 50;
}

/** edge ÷ probe at the 50% rollout over the largest cohort, against the same at the smallest pinned cohort. */
function rolloutEffect(run: BenchRun, s: Map<string, CellSummary>): { effect: number | null; rollout: CellSummary | undefined; pinned: CellSummary | undefined } {
  const c = middleOf(run);
  const rollout = lookup(s, run.config.cohorts.at(-1) ?? 10, 'edge', c, 'rollout-50');
  const pinned = lookup(s, run.config.cohorts[0] ?? 10, 'edge', c);
  const effect = rollout?.vsProbe != null && pinned?.vsProbe != null ? rollout.vsProbe / pinned.vsProbe : null;
  return { effect, rollout, pinned };
}

/** Goal lines of the hardening, structure, operator-plane and progressive-delivery issues, computed from this run. */
export function progressiveGoals(run: BenchRun, s: Map<string, CellSummary>): string {
  const lines: string[] = [];
  const base = run.config.cohorts[0] ?? 10;
  const vsProbe = run.config.connections.map((c) => lookup(s, base, 'edge', c)?.vsProbe ?? Number.NaN);
  const beforeVsProbe = run.config.connections.map((c) => lookup(s, base, 'edge-before', c)?.vsProbe ?? Number.NaN);
  const vsBefore = run.config.connections.map((c) => lookup(s, base, 'edge', c)?.vsEdgeBefore ?? Number.NaN);
  lines.push(
    `- Edge ÷ bare probe ≥ 0.90×: ${verdict(vsProbe.every((r) => r >= 0.9))} — after: ${vsProbe.map((r, i) => `${ratio(r)} (c=${run.config.connections[i] ?? '?'})`).join(', ')}` +
      (run.baseline === null
        ? '.'
        : `; before (baseline build ${run.baseline.sha.slice(0, 7)}, same rounds): ${beforeVsProbe.map((r) => ratio(r)).join(', ')}; this build ÷ baseline build: ${vsBefore.map((r) => ratio(r)).join(', ')}.`),
  );
  const { effect } = rolloutEffect(run, s);
  lines.push(
    `- Rollout 50% over ${int(run.config.cohorts.at(-1) ?? 0)} platforms vs ${int(base)} pinned (÷ probe, same rounds, c=${middleOf(run)}) ≥ 0.95×: ${verdict((effect ?? 0) >= 0.95)} — ${ratio(effect)}.`,
  );
  const states = [...new Set(run.paths.map((p) => p.state))];
  const exact = run.paths.map((p) => p.cell.steadyRoundTripsPerRequest ?? Number.NaN);
  const exactMet = exact.every((v) => Math.abs(v - 1) < 0.0005);
  lines.push(
    `- Round trips on the critical path stay 1.000 on every path with ${states.join(', ')}: ${verdict(exactMet)} — ${fixed(Math.min(...exact), 3)}–${fixed(Math.max(...exact), 3)} over ${run.paths.length} exact-count runs.`,
  );
  const h = run.healthCounting;
  const amortised = h.routed === 0 ? Number.NaN : h.healthFlushes / h.routed;
  lines.push(
    `- Signal recording ≤ 0.02 extra Redis requests per routed request at ${int(h.rate)} req/s over ${int(h.platforms)} distinct platforms: ${verdict(amortised <= 0.02)} — ${fixed(amortised, 4)} (${int(h.healthFlushes)} flushes for ${int(h.routed)} requests in ${fixed(h.seconds, 1)} s); critical path ${fixed(h.criticalRoundTrips / Math.max(1, h.routed), 3)} round trips per request.`,
  );
  const j = run.judgeCost;
  lines.push(
    `- Redis memory of the judge's evidence ≤ 100 bytes per active platform-minute: ${verdict(j.bytesPerPlatformMinute <= 100)} — ${fixed(j.bytesPerPlatformMinute, 1)} bytes (${fixed(j.totalBytes / 1048576, 2)} MiB for ${int(j.platforms)} platform-minutes, MEMORY USAGE exact).`,
    `- One judge tick over ${int(j.platforms)} active platforms ≤ 2 s on the app: ${verdict(Math.max(...j.tickMs) <= 2000)} — median ${ms(median(j.tickMs))} ms, max ${ms(Math.max(...j.tickMs))} ms over ${j.tickMs.length} ticks (window read ${ms(j.readMs)} ms, the rest ${ms(j.restMs)} ms; verdict ${j.verdict}).`,
  );
  const sim = run.simulation.figures;
  lines.push(
    `- The judge's statistics (seeded simulation of its own code, ${int(sim[0]?.runs ?? 0)} runs per scenario): ${verdict(sim.every((f) => f.met))} — ${sim.map((f) => `${f.scenario}: ${f.figure} ${fixed(f.share * 100, 1)}% (${f.bound})`).join('; ')}.`,
  );
  const p = run.pause;
  lines.push(
    `- Kill switch holds from the very next request: ${verdict(p.staleAfterPause === 0 && p.staleAfterResume === 0)} — ${p.staleAfterPause} of ${p.rounds} requests right after a pause's 200 went to the canary, ${p.staleAfterResume} of ${p.rounds} after a resume went to the primary (pause answered in ${ms(p.pauseMsP50)} ms median, ${ms(p.pauseMsMax)} ms max).`,
  );
  const u = run.unknownIds;
  lines.push(
    `- Unknown ids are budgeted per client: ${int(u.ids)} distinct unknown API keys from one client cost ${int(u.dbQueries)} database queries (answers: ${Object.entries(u.statuses).map(([k, v]) => `${int(v)}× ${k}`).join(', ')}).`,
  );
  const heap = run.heap;
  const first = heap.samples[1]?.usedMiB ?? Number.NaN;
  const last = heap.samples.at(-1)?.usedMiB ?? Number.NaN;
  const perReload = heap.reloads > 1 ? (last - first) / (heap.reloads - 1) : Number.NaN;
  lines.push(
    `- Isolate heap bounded across cohort reloads: ${verdict(heap.maxUsedMiB < 64)} — after GC ${fixed(heap.samples[0]?.usedMiB ?? null, 1)} MiB before, ${fixed(first, 1)} MiB after the first of ${heap.reloads} reloads of a ${int(heap.cohort)}-member cohort, ${fixed(last, 1)} MiB after the last (${fixed(perReload * 1024, 0)} KiB per reload); at most ${fixed(heap.maxUsedMiB, 1)} MiB against the 128 MB isolate limit (threshold 64 MiB).`,
  );
  const f = run.flipMemory;
  lines.push(
    `- A flip's memory is bounded by its page, not its backlog: ${verdict(f.lost === 0 && f.duplicated === 0 && f.leftOnSource === 0 && f.movers.length === 1)} — ` +
      `moving ${int(f.jobs)} × ${fixed(f.jobMiB, 2)} MiB jobs (page ${f.pageSize}) grew the moving app's RSS by ${int(f.rssGrowthMiB)} MiB (Node's default heap, garbage not yet collected included) in ${fixed(f.moveSeconds, 0)} s; ` +
      `${int(f.moved)} moved, ${int(f.lost)} lost, ${int(f.duplicated)} duplicated, ${f.movers.length === 1 ? 'one app moved them' : `${f.movers.length} apps moved them`}.`,
  );
  const m = run.stepMove;
  lines.push(
    `- A rollout step moving ${int(m.platforms)} platforms' ${int(m.jobs)} waiting jobs (${fixed(m.jobKiB, 0)} KiB each) in ≤ ${STEP_MOVE_GOAL.seconds} s with the moving app's RSS growth ≤ ${STEP_MOVE_GOAL.rssGrowthMiB} MiB, 0 lost, 0 run twice: ${verdict(m.goalMet)} — ` +
      `moved in ${fixed(m.moveSeconds, 1)} s (all on the target ${fixed(m.arrivedSeconds, 1)} s after the request), RSS +${int(m.rssGrowthMiB)} MiB; ${int(m.lost)} lost, ${int(m.duplicated)} duplicated, ${int(m.leftOnSource)} left on the source.`,
  );
  const ho = run.handover;
  lines.push(`- Live sockets follow a flip and a pause (${int(ho.clients)} clients over ${int(ho.platforms)} platforms; 100% moved, ≤ the rate, no other socket, no event lost): ${verdict(ho.goalMet)} — details in "Live sockets" below.`);
  return lines.join('\n');
}

function beforeAfterTable(run: BenchRun, s: Map<string, CellSummary>): string {
  const base = run.config.cohorts[0] ?? 10;
  return table(
    ['conns', 'baseline build req/s', 'this build req/s', 'this ÷ baseline', 'baseline ÷ probe', 'this ÷ probe', 'p99 ms baseline / this'],
    run.config.connections.map((c) => {
      const before = lookup(s, base, 'edge-before', c);
      const after = lookup(s, base, 'edge', c);
      return [
        String(c),
        int(before?.rps ?? null),
        int(after?.rps ?? null),
        ratio(after?.vsEdgeBefore ?? null),
        ratio(before?.vsProbe ?? null),
        ratio(after?.vsProbe ?? null),
        `${ms(before?.p99Ms ?? null)} / ${ms(after?.p99Ms ?? null)}`,
      ];
    }),
  );
}

function profileTable(run: BenchRun): string {
  const { edge } = run.profile;
  return table(
    ['where the edge isolate spends its busy time', 'share', 'µs per request (inspector on)'],
    edge.rows.map((r) => [r.category, percent(r.share), int((r.ms * 1000) / Math.max(1, edge.requests))]),
  );
}

function rolloutTable(run: BenchRun, s: Map<string, CellSummary>): string {
  const { rollout, pinned } = rolloutEffect(run, s);
  const row = (label: string, x: CellSummary | undefined): string[] => [
    label,
    int(x?.rps ?? null),
    ratio(x?.vsProbe ?? null),
    `${ms(x?.p50Ms ?? null)} / ${ms(x?.p99Ms ?? null)}`,
    fixed(x?.redisRoundTripsPerRequest ?? null, 3),
    fixed(x?.dbQueriesPer1k ?? null, 2),
    percent(x?.canaryShare ?? null),
    String(x?.failures ?? '—'),
  ];
  return table(
    ['cohort', 'edge req/s (median)', '× probe (same round)', 'p50 / p99 ms', 'Redis round trips/req', 'DB queries/1k req', 'to canary', 'failed'],
    [row(`${int(run.config.cohorts[0] ?? 10)} pinned`, pinned), row(`rollout 50% over ${int(run.config.cohorts.at(-1) ?? 0)}`, rollout)],
  );
}

function heapTable(run: BenchRun): string {
  return table(
    ['after reload', ...run.heap.samples.map((x) => String(x.reload))],
    [['heap used after GC, MiB', ...run.heap.samples.map((x) => fixed(x.usedMiB, 1))]],
  );
}

/** The sections of the operator plane, progressive delivery and performance-attribution measurements. */
export function progressiveSections(run: BenchRun, s: Map<string, CellSummary>): string {
  const { profile } = run;
  const busy = (a: typeof profile.edge): number => (a.busyMs * 1000) / Math.max(1, a.requests);
  const parts: string[] = [];
  if (run.baseline !== null) {
    parts.push(
      `### This build and the baseline build, side by side (cohort ${int(run.config.cohorts[0] ?? 10)}, same rounds)`,
      '',
      `Baseline: \`${run.baseline.sha.slice(0, 12)}\` ("${run.baseline.subject}"), built by \`npm run bench\` from git with its own wrangler.toml and run beside this build, each edge on a Redis database of its own (BENCH_BASELINE_REF).`,
      '',
      beforeAfterTable(run, s),
      '',
    );
  }
  parts.push(
    `### Where the edge's time goes (CPU profile, ${profile.seconds} s at ${profile.connections} connections)`,
    '',
    `An unminified copy of this build under the same load with the V8 inspector on (only for this step), every sample attributed to the module that was running (a native call such as \`fetch\` or \`crypto.subtle\` to the code that made it). ` +
      `Busy isolate time per request: edge ${int(busy(profile.edge))} µs, bare probe ${int(busy(profile.probe))} µs (the inspector inflates both, and console.log most: with a debugger attached every log line is also sent to it).`,
    '',
    profileTable(run),
    '',
    `### Percentage rollout (c=${middleOf(run)}, same rounds as the probe)`,
    '',
    `The load's 20 platforms follow the rollout; the bucket rule put ${percent(run.rolloutCanaryShare)} of them on the canary.`,
    '',
    rolloutTable(run, s),
    '',
    `### Isolate heap across ${run.heap.reloads} reloads of a ${int(run.heap.cohort)}-member cohort (read through the inspector after a full GC)`,
    '',
    heapTable(run),
    '',
    `In-line reload time seen by the triggering request: median ${ms(median(run.heap.reloadMs))} ms, max ${ms(Math.max(...run.heap.reloadMs))} ms.`,
    '',
    renderFlipMemory(run.flipMemory),
    '',
    renderStepMove(run.stepMove),
    '',
    renderHandover(run.handover),
  );
  return parts.join('\n');
}


/** The ratio goals from interleaved short cells (issue "ratios that mean something"): each with its median and IQR. */
export function interleavedGoals(run: BenchRun): string {
  const r = run.ratios;
  const find = (prefix: string): InterleavedRatio[] => r.filter((x) => x.label.startsWith(prefix));
  const iqr = (x: InterleavedRatio): string => `${ratio(x.median)} (IQR ${ratio(x.q1)}–${ratio(x.q3)}, ${x.pairs} pairs of ${x.cellSeconds}-s cells)`;
  const base = run.config.cohorts[0] ?? 10;
  const top = run.config.cohorts.at(-1) ?? base;
  const lines: string[] = [];
  const edgeBase = find(`edge ÷ probe, cohort ${int(base)},`);
  lines.push(`- Edge ÷ bare probe ≥ 0.90× (interleaved): ${verdict(edgeBase.length > 0 && edgeBase.every((x) => x.median >= 0.9))} — ${edgeBase.map((x) => `${x.label.split(', ').at(-1) ?? ''}: ${iqr(x)}`).join('; ')}.`);
  const middleBase = edgeBase.find((x) => x.label.endsWith(`c=${middleOf(run)}`));
  const edgeTop = find(`edge ÷ probe, cohort ${int(top)},`)[0];
  if (middleBase !== undefined && edgeTop !== undefined) {
    const effect = edgeTop.median / middleBase.median;
    lines.push(`- Cohort-independent throughput ≥ 0.90× (interleaved): ${verdict(effect >= 0.9)} — edge ÷ probe at cohort ${int(top)} ${iqr(edgeTop)} against ${iqr(middleBase)} at cohort ${int(base)}: ${ratio(effect)}.`);
  }
  const rollout = find('edge ÷ probe, rollout 50%')[0];
  if (rollout !== undefined && middleBase !== undefined) {
    const effect = rollout.median / middleBase.median;
    lines.push(`- Rollout 50% over ${int(top)} vs ${int(base)} pinned ≥ 0.95× (interleaved): ${verdict(effect >= 0.95)} — ${iqr(rollout)} against ${iqr(middleBase)}: ${ratio(effect)}.`);
  }
  const flips = find('edge with one flip a second')[0];
  const flipLoad = run.flipLoads.find((f) => f.design === 'edge');
  if (flips !== undefined) {
    const reloads = flipLoad?.edgeTrace === undefined || flipLoad.edgeTrace === null ? Number.NaN : cohortReloads(flipLoad.edgeTrace);
    const met = flips.median >= 0.95 && flips.p99Ratio <= 1.5 && reloads === 0;
    lines.push(
      `- A flip costs O(1) at cohort ${int(top)} (≤ 5% throughput, p99 ≤ 1.5×, 0 in-line reloads): ${verdict(met)} — with one flip a second ÷ without: ${iqr(flips)}, p99 ${ratio(flips.p99Ratio)}; ` +
        `cohort reloads during ${int(flipLoad?.flips ?? 0)} flips (one a second for ${run.config.flipSeconds} s): ${Number.isNaN(reloads) ? '—' : int(reloads)}.`,
    );
  }
  return lines.join('\n');
}

/** Every interleaved ratio of the run, as a table. */
export function ratioTable(run: BenchRun): string {
  return table(
    ['ratio (A ÷ B, req/s)', 'pairs × cell', 'median', 'IQR', 'p99 A ÷ B (median)', 'failed'],
    run.ratios.map((x) => [x.label, `${x.pairs} × ${x.cellSeconds} s`, ratio(x.median), `${ratio(x.q1)}–${ratio(x.q3)}`, ratio(x.p99Ratio), int(x.failures)]),
  );
}
