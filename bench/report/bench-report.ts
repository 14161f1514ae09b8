import { cohortReloads } from '../load/edge-trace.js';
import type { TargetName } from '../load/measure-cell.js';
import { cohortEffect, lookup, summarise } from './aggregate.js';
import type { CellSummary } from './aggregate.js';
import { goals } from './bench-goals.js';
import { interleavedGoals, progressiveGoals, progressiveSections, ratioTable } from './progressive-report.js';
import type { BenchRun } from './bench-run.js';
import { bytes, fixed, int, ms, percent, ratio, table } from './format.js';
import { machineLine } from './machine-info.js';

export type { BenchConfig, BenchRun } from './bench-run.js';

const TARGET_LABEL: Record<TargetName, string> = {
  direct: 'direct origin',
  floor: 'workerd floor (no I/O)',
  probe: 'bare workerd probe',
  edge: '**edge** (workerd)',
  'edge-before': 'edge, baseline build (workerd)',
  'in-app': 'seed in-app (Fastify)',
};

function headlineTable(run: BenchRun, s: Map<string, CellSummary>): string {
  const cohort = run.config.cohorts[0] ?? 10;
  const rows: string[][] = [];
  for (const c of run.config.connections) {
    for (const target of ['direct', 'floor', 'probe', 'edge', 'edge-before', 'in-app'] as const) {
      const x = lookup(s, cohort, target, c);
      if (x === undefined) continue;
      rows.push([
        String(c),
        TARGET_LABEL[target],
        int(x.rps),
        x.rpsPerRound.map((r) => int(r)).join(' / '),
        ms(x.p50Ms),
        ms(x.p99Ms),
        ratio(x.vsDirect),
        ratio(x.vsInApp),
        target === 'edge' || target === 'edge-before' ? ratio(x.vsProbe) : '',
        target === 'edge' ? ratio(x.vsEdgeBefore) : '',
        fixed(x.redisRoundTripsPerRequest, 2),
        fixed(x.dbQueriesPer1k, 2),
        percent(x.canaryShare),
        fixed(x.peakRssMiB, 0),
        String(x.failures),
      ]);
    }
  }
  return table(
    ['conns', 'target', 'req/s (median)', 'req/s per round', 'p50 ms', 'p99 ms', '× direct', '× in-app', '× probe', '× baseline build', 'Redis round trips/req', 'DB queries/1k req', 'to canary', 'peak RSS MiB', 'failed'],
    rows,
  );
}

function cohortTable(run: BenchRun, s: Map<string, CellSummary>): string {
  const base = run.config.cohorts[0] ?? 10;
  const rows: string[][] = [];
  for (const c of run.config.connections) {
    for (const cohort of run.config.cohorts) {
      const edge = lookup(s, cohort, 'edge', c);
      const app = lookup(s, cohort, 'in-app', c);
      if (edge === undefined || app === undefined) continue;
      rows.push([
        String(c),
        int(cohort),
        int(edge.rps),
        int(app.rps),
        ratio(edge.vsInApp),
        `${ms(edge.p50Ms)} / ${ms(edge.p99Ms)}`,
        `${ms(app.p50Ms)} / ${ms(app.p99Ms)}`,
        `${ratio(cohortEffect(s, 'edge', base, cohort, c))} (${ratio(cohortEffect(s, 'edge', base, cohort, c, true))})`,
        ratio(cohortEffect(s, 'in-app', base, cohort, c)),
        `${fixed(edge.redisRoundTripsPerRequest, 2)} / ${fixed(app.redisRoundTripsPerRequest, 2)}`,
        bytes(app.cohortBytesPerRequest),
        `${fixed(edge.dbQueriesPer1k, 2)} / ${fixed(app.dbQueriesPer1k, 2)}`,
        edge.cohortReloads === 0 ? '0' : `${edge.cohortReloads} (${edge.maxCohortLoadMs === null ? 'refresh-ahead only' : `${int(edge.maxCohortLoadMs)} ms`})`,
        `${fixed(edge.peakRssMiB, 0)} / ${fixed(app.peakRssMiB, 0)}`,
        `${edge.failures} / ${app.failures}`,
      ]);
    }
  }
  return table(
    ['conns', 'cohort', 'edge req/s', 'in-app req/s', 'edge ÷ in-app', 'edge p50 / p99 ms', 'in-app p50 / p99 ms', `edge vs cohort ${int(base)}* (reload-free rounds)`, `in-app vs cohort ${int(base)}*`, 'Redis round trips/req edge / in-app', 'cohort bytes read/req (in-app)', 'DB queries/1k edge / in-app', 'edge cohort loads (slowest in-line)', 'peak RSS MiB workerd / app', 'failed edge / in-app'],
    rows,
  );
}

function coldTable(run: BenchRun): string {
  return table(
    ['cohort', 'design', 'responses', 'p50 ms', 'p99 ms', 'DB queries', 'edge fill waits', 'edge cohort load ms', 'failed'],
    run.cold.map((r) => [
      int(r.cohort),
      r.design,
      int(r.responses),
      ms(r.p50Ms),
      ms(r.p99Ms),
      int(r.dbQueries),
      r.edgeTrace === null ? '—' : int(r.edgeTrace.fillWaits),
      r.edgeTrace === null ? '—' : r.edgeTrace.cohortLoadMs.map((v) => int(v)).join(', ') || '—',
      String(r.errors + r.non2xx),
    ]),
  );
}

function flipTable(run: BenchRun, s: Map<string, CellSummary>): string {
  return table(
    ['design', 'flips', 'req/s', 'same cell without flips (median req/s)', 'p50 ms', 'p99 ms', 'DB queries by readers', 'Redis round trips/req (incl. reload polls)', 'edge cohort reloads (slowest)', 'failed'],
    run.flipLoads.map((r) => {
      const loads = r.edgeTrace?.cohortLoadMs ?? [];
      return [
        r.design,
        String(r.flips),
        int(r.load.rps),
        int(lookup(s, r.cohort, r.design, r.connections)?.rps ?? null),
        ms(r.load.p50Ms),
        ms(r.load.p99Ms),
        int(r.dbQueries),
        fixed(r.redisRoundTripsPerRequest, 2),
        r.edgeTrace === null ? '—' : `${loads.length} (${int(loads.reduce((a, b) => Math.max(a, b), 0))} ms)`,
        String(r.load.errors + r.load.non2xx),
      ];
    }),
  );
}

function pathTable(run: BenchRun): string {
  return table(
    ['state', 'path', 'requests', 'Redis round trips/req', 'excluding cohort loads', 'cohort loads', 'DB queries/1k req', 'to canary', 'failed'],
    run.paths.map(({ state, path, cell }) => [
      state,
      path,
      int(cell.handled),
      fixed(cell.redisRoundTripsPerRequest, 3),
      fixed(cell.steadyRoundTripsPerRequest, 3),
      String(cohortReloads(cell.edgeTrace)),
      fixed(cell.dbQueriesPer1k, 2),
      percent(cell.canaryShare),
      String(cell.load.errors + cell.load.non2xx),
    ]),
  );
}

function streamingTable(run: BenchRun): string {
  return table(
    ['transfer', 'via', 'time s', 'MiB/s', 'verified', 'workerd RSS before MiB', 'workerd peak MiB', 'peak growth MiB'],
    run.streaming.map((r) => [
      `${r.direction} ${int(r.result.bytes / 1024 / 1024)} MiB`,
      r.via,
      fixed(r.result.seconds, 1),
      int(r.result.bytes / 1024 / 1024 / r.result.seconds),
      r.result.verified ? 'yes' : `NO (${r.result.detail})`,
      fixed(r.rssBeforeMiB, 0),
      fixed(r.peakRssMiB, 0),
      fixed(r.growthMiB, 0),
    ]),
  );
}

/** The generated BENCHMARKS.md section of one bench run. */
export function renderBenchReport(run: BenchRun): string {
  const s = summarise(run.cells);
  const c = run.config;
  const cohort0 = int(c.cohorts[0] ?? 10);
  return [
    `## Latest bench run — ${run.startedAt.toISOString()}`,
    '',
    `Machine: ${machineLine(run.machine)}`,
    '',
    `Run: \`npm run bench\`, ${c.rounds} rounds × ${c.seconds} s per cell (+${c.warmupSeconds} s warm-up per cell in round 1; target order rotated each round), ` +
      `concurrency ${c.connections.join(', ')}, cohorts ${c.cohorts.map((n) => int(n)).join(', ')}; total runtime ${(run.runtimeSeconds / 60).toFixed(1)} min. ` +
      `Load average (1 min) ${run.loadAverage.start.toFixed(2)} at the start, ${run.loadAverage.end.toFixed(2)} at the end. ` +
      `Edge log: ${int(run.edgeLog.lines)} lines; ${int(run.edgeLog.storeFallbacks)} store fallbacks, ${int(run.edgeLog.clientDisconnects)} client hang-ups (the load generator closing connections at the end of each run), ${int(run.edgeLog.other)} other.`,
    '',
    '### Goals',
    '',
    goals(run, s),
    progressiveGoals(run, s),
    interleavedGoals(run),
    '',
    '### Ratios from interleaved short cells',
    '',
    'Each ratio is the median of per-pair ratios, A and B run back to back in alternating order (ABBA...), with the interquartile range: the figure the ratio goals above are judged on. The per-round ratios in the tables below come from longer cells and show the same with less spread control.',
    '',
    ratioTable(run),
    '',
    `### Throughput and latency, cohort ${cohort0} (medians over rounds; ratios taken within each round)`,
    '',
    headlineTable(run, s),
    '',
    '### Cohort size: edge vs seed in-app design, side by side (same rounds)',
    '',
    cohortTable(run, s),
    '',
    `\\* (design req/s ÷ probe req/s at this cohort) ÷ (the same at cohort ${cohort0}): the probe does not depend on the cohort, so this cancels the machine's drift between phases.`,
    '',
    `### Cold cache: the first ${c.coldSeconds} s after an invalidation at ${c.coldConnections} connections`,
    '',
    coldTable(run),
    '',
    `### One flip per second (cohort ${int(run.flipLoads[0]?.cohort ?? 0)}, ${run.flipLoads[0]?.connections ?? 0} connections, ${c.flipSeconds} s; a platform outside the load is flipped the way each design flips)`,
    '',
    flipTable(run, s),
    '',
    `### Edge store cost per resolution path (${int(c.cohorts.at(-1) ?? 0)} platforms, warm, exactly ${int(c.pathRequests)} requests each at ${c.connections[0] ?? 10} connections)`,
    '',
    'Pinned: the cohort pinned in, rollout 0%. Overrides present: every request carries a tester override scoped to its own platform (target canary), so the platform must still be resolved and looked up. Rollout 50%: the platforms follow a 50% rollout (no explicit choice); the critical-path count excludes the health flushes sent after responses.',
    '',
    pathTable(run),
    '',
    progressiveSections(run, s),
    '',
    '### Streaming through the edge',
    '',
    streamingTable(run),
  ].join('\n');
}
