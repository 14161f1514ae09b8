import type { EdgeLogCounts } from '../load/bench-topology.js';
import type { ColdBurstResult } from '../load/cold-burst.js';
import type { TargetName } from '../load/measure-cell.js';
import type { CellResult } from '../load/measure-cell.js';
import type { PathCost } from '../load/path-costs.js';
import type { StreamingRow } from '../streaming/measure-streaming.js';
import { lookup, summarise } from './aggregate.js';
import type { CellSummary } from './aggregate.js';
import { bytes, fixed, int, ms, percent, ratio, table } from './format.js';
import { machineLine } from './machine-info.js';
import type { MachineInfo } from './machine-info.js';

export interface BenchConfig {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number[];
  cohorts: number[];
  streamMiB: number;
  pathSeconds: number;
  coldSeconds: number;
  coldConnections: number;
}

export interface BenchRun {
  startedAt: Date;
  runtimeSeconds: number;
  config: BenchConfig;
  machine: MachineInfo;
  cells: CellResult[];
  cold: ColdBurstResult[];
  paths: PathCost[];
  streaming: StreamingRow[];
  edgeLog: EdgeLogCounts;
}

const TARGET_LABEL: Record<TargetName, string> = {
  direct: 'direct origin',
  floor: 'workerd floor (no I/O)',
  probe: 'bare workerd probe',
  edge: '**edge** (workerd)',
  'in-app': 'seed in-app (Fastify)',
};

function headlineTable(run: BenchRun, s: Map<string, CellSummary>): string {
  const cohort = run.config.cohorts[0] ?? 10;
  const rows: string[][] = [];
  for (const c of run.config.connections) {
    for (const target of ['direct', 'floor', 'probe', 'edge', 'in-app'] as const) {
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
        fixed(x.redisRoundTripsPerRequest, 2),
        fixed(x.dbQueriesPer1k, 2),
        percent(x.canaryShare),
        fixed(x.peakRssMiB, 0),
        String(x.failures),
      ]);
    }
  }
  return table(
    ['conns', 'target', 'req/s (median)', 'req/s per round', 'p50 ms', 'p99 ms', '× direct', '× in-app', 'Redis round trips/req', 'DB queries/1k req', 'to canary', 'peak RSS MiB', 'failed'],
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
      const edgeBase = lookup(s, base, 'edge', c);
      const appBase = lookup(s, base, 'in-app', c);
      rows.push([
        String(c),
        int(cohort),
        int(edge.rps),
        int(app.rps),
        ratio(edge.vsInApp),
        `${ms(edge.p50Ms)} / ${ms(edge.p99Ms)}`,
        `${ms(app.p50Ms)} / ${ms(app.p99Ms)}`,
        ratio(edgeBase === undefined ? null : edge.rps / edgeBase.rps),
        ratio(appBase === undefined ? null : app.rps / appBase.rps),
        `${fixed(edge.redisRoundTripsPerRequest, 2)} / ${fixed(app.redisRoundTripsPerRequest, 2)}`,
        bytes(app.cohortBytesPerRequest),
        `${fixed(edge.dbQueriesPer1k, 2)} / ${fixed(app.dbQueriesPer1k, 2)}`,
        `${fixed(edge.peakRssMiB, 0)} / ${fixed(app.peakRssMiB, 0)}`,
        `${edge.failures} / ${app.failures}`,
      ]);
    }
  }
  return table(
    ['conns', 'cohort', 'edge req/s', 'in-app req/s', 'edge ÷ in-app', 'edge p50 / p99 ms', 'in-app p50 / p99 ms', `edge vs cohort ${int(base)}`, `in-app vs cohort ${int(base)}`, 'Redis round trips/req edge / in-app', 'cohort bytes read/req (in-app)', 'DB queries/1k edge / in-app', 'peak RSS MiB workerd / app', 'failed edge / in-app'],
    rows,
  );
}

function coldTable(run: BenchRun): string {
  return table(
    ['cohort', 'design', 'responses', 'DB queries', 'failed'],
    run.cold.map((r) => [int(r.cohort), r.design, int(r.responses), int(r.dbQueries), String(r.errors + r.non2xx)]),
  );
}

function pathTable(run: BenchRun): string {
  return table(
    ['path', 'req/s', 'Redis round trips/req', 'Redis commands/req', 'DB queries/1k req', 'to canary', 'failed'],
    run.paths.map(({ path, cell }) => [
      path,
      int(cell.load.rps),
      fixed(cell.redisRoundTripsPerRequest, 3),
      fixed(cell.redisCommandsPerRequest, 3),
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

function verdict(met: boolean): string {
  return met ? '**met**' : '**MISSED**';
}

function goals(run: BenchRun, s: Map<string, CellSummary>): string {
  const lines: string[] = [];
  const rts = run.paths.map((p) => p.cell.redisRoundTripsPerRequest ?? Number.NaN);
  const edgeCells = [...s.values()].filter((x) => x.target === 'edge');
  const cellRts = edgeCells.map((x) => x.redisRoundTripsPerRequest ?? Number.NaN);
  const all = [...rts, ...cellRts];
  const rtMet = all.every((r) => Math.abs(r - 1) <= 0.02);
  lines.push(`- 1 Redis round trip per request on every path: ${verdict(rtMet)} — edge ${fixed(Math.min(...all), 3)}–${fixed(Math.max(...all), 3)} round trips/request over ${run.paths.map((p) => p.path).join(', ')} and every load cell (the seed design: 1 GET per request, plus a SET per miss).`);

  const pathQueries = run.paths.reduce((n, p) => n + Math.round(((p.cell.dbQueriesPer1k ?? 0) * p.cell.handled) / 1000), 0);
  const dbQueries = edgeCells.reduce((n, x) => n + x.dbQueries, 0) + pathQueries;
  const edgeSeconds = edgeCells.reduce((n, x) => n + x.seconds, 0) + run.paths.reduce((n, p) => n + p.cell.load.seconds, 0);
  const handled = edgeCells.reduce((n, x) => n + x.handled, 0) + run.paths.reduce((n, p) => n + p.cell.handled, 0);
  lines.push(
    `- 0 DB queries warm: ${verdict(dbQueries === 0)} — ${int(dbQueries)} queries over ${int(handled)} warm edge requests (${int(edgeSeconds)} s of load). ` +
      'Any non-zero count here is the cohort being reloaded after its 60-s cache TTL expired mid-run (one cohort query, plus point queries from readers that gave up waiting for the fill lock).',
  );

  const base = run.config.cohorts[0] ?? 10;
  const top = run.config.cohorts.at(-1) ?? base;
  const ratios = run.config.connections.map((c) => {
    const a = lookup(s, base, 'edge', c);
    const b = lookup(s, top, 'edge', c);
    const appA = lookup(s, base, 'in-app', c);
    const appB = lookup(s, top, 'in-app', c);
    return { c, edge: a && b ? b.rps / a.rps : Number.NaN, app: appA && appB ? appB.rps / appA.rps : Number.NaN };
  });
  const cohortMet = ratios.every((r) => r.edge >= 0.9);
  lines.push(
    `- Cohort-independent throughput: ${verdict(cohortMet)} — edge req/s at cohort ${int(top)} ÷ cohort ${int(base)}: ` +
      `${ratios.map((r) => `${ratio(r.edge)} (c=${r.c})`).join(', ')}; seed in-app: ${ratios.map((r) => `${ratio(r.app)} (c=${r.c})`).join(', ')}. ` +
      'Threshold 0.90× (run-to-run noise on this machine is several percent).',
  );

  const edgeStreams = run.streaming.filter((r) => r.via === 'edge');
  const growth = Math.max(...edgeStreams.map((r) => r.growthMiB ?? Number.NaN));
  const streamMet = edgeStreams.length > 0 && edgeStreams.every((r) => r.result.verified && (r.growthMiB ?? Infinity) <= 64);
  lines.push(`- Streaming without memory growth: ${verdict(streamMet)} — workerd peak RSS grew at most ${fixed(growth, 0)} MiB while ${int(run.config.streamMiB)} MiB went through (threshold 64 MiB).`);
  return lines.join('\n');
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
      `Edge log: ${int(run.edgeLog.lines)} lines; ${int(run.edgeLog.storeFallbacks)} store fallbacks, ${int(run.edgeLog.clientDisconnects)} client hang-ups (the load generator closing connections at the end of each run), ${int(run.edgeLog.other)} other.`,
    '',
    '### Goals',
    '',
    goals(run, s),
    '',
    `### Throughput and latency, cohort ${cohort0} (medians over rounds; ratios taken within each round)`,
    '',
    headlineTable(run, s),
    '',
    '### Cohort size: edge vs seed in-app design, side by side (same rounds)',
    '',
    cohortTable(run, s),
    '',
    `### Cold cache: the first ${c.coldSeconds} s after an invalidation at ${c.coldConnections} connections`,
    '',
    coldTable(run),
    '',
    `### Edge store cost per resolution path (cohort ${int(c.cohorts.at(-1) ?? 0)}, warm, ${c.pathSeconds} s at ${c.connections[0] ?? 10} connections)`,
    '',
    pathTable(run),
    '',
    '### Streaming through the edge',
    '',
    streamingTable(run),
  ].join('\n');
}
