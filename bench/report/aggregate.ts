import { cohortReloads } from '../load/edge-trace.js';
import type { CellResult, CohortVariant, TargetName } from '../load/measure-cell.js';
import { median } from '../support/stats.js';

/** Medians over rounds of one (cohort, target, connections) cell, plus ratios taken within each round. */
export interface CellSummary {
  cohort: number;
  variant: CohortVariant;
  target: TargetName;
  connections: number;
  rounds: number;
  rps: number;
  rpsPerRound: number[];
  p50Ms: number;
  p99Ms: number;
  /** Median over rounds of rps / direct's rps in the same round (null when direct was not run in those rounds). */
  vsDirect: number | null;
  /** Median over rounds of rps / in-app's rps in the same round. */
  vsInApp: number | null;
  /** Median over rounds of rps / the probe's rps in the same round (the probe does not depend on the cohort). */
  vsProbe: number | null;
  /** Edge only: median over rounds of rps / the baseline build's rps in the same round. */
  vsEdgeBefore: number | null;
  /** The same, over the rounds in which this cell saw no cohort reload (null when every round had one). */
  vsProbeReloadFree: number | null;
  redisRoundTripsPerRequest: number | null;
  steadyRoundTripsPerRequest: number | null;
  /** Cohort loads (in-line and refresh-ahead) seen in the edge log, summed over rounds; the slowest in-line one (ms). */
  cohortReloads: number;
  maxCohortLoadMs: number | null;
  /** Extra lookups spent waiting for a fill, summed over rounds. */
  fillWaits: number;
  dbQueriesPer1k: number | null;
  cohortBytesPerRequest: number | null;
  canaryShare: number | null;
  peakRssMiB: number | null;
  /** Requests without an answer plus non-2xx answers, summed over rounds. */
  failures: number;
  /** Database queries summed over rounds (not normalised). */
  dbQueries: number;
  handled: number;
  seconds: number;
}

function medianOrNull(values: readonly (number | null)[]): number | null {
  const present = values.filter((v): v is number => v !== null && !Number.isNaN(v));
  return present.length === 0 ? null : median(present);
}

function key(cohort: number, target: TargetName, connections: number, variant: CohortVariant): string {
  return `${variant}|${cohort}|${target}|${connections}`;
}

function ratioPerRound(cells: readonly CellResult[], all: readonly CellResult[], other: TargetName): number | null {
  const ratios: number[] = [];
  for (const cell of cells) {
    const peer = all.find(
      (c) => c.target === other && c.cohort === cell.cohort && c.variant === cell.variant && c.connections === cell.connections && c.round === cell.round,
    );
    if (peer !== undefined && peer.load.rps > 0) ratios.push(cell.load.rps / peer.load.rps);
  }
  return ratios.length === 0 ? null : median(ratios);
}

/** Groups the raw cells and summarises each group. */
export function summarise(cells: readonly CellResult[]): Map<string, CellSummary> {
  const groups = new Map<string, CellResult[]>();
  for (const cell of cells) {
    const k = key(cell.cohort, cell.target, cell.connections, cell.variant);
    groups.set(k, [...(groups.get(k) ?? []), cell]);
  }
  const out = new Map<string, CellSummary>();
  for (const [k, group] of groups) {
    const first = group[0];
    if (first === undefined) continue;
    out.set(k, {
      cohort: first.cohort,
      variant: first.variant,
      target: first.target,
      connections: first.connections,
      rounds: group.length,
      rps: median(group.map((c) => c.load.rps)),
      rpsPerRound: group.map((c) => c.load.rps),
      p50Ms: median(group.map((c) => c.load.p50Ms)),
      p99Ms: median(group.map((c) => c.load.p99Ms)),
      vsDirect: first.target === 'direct' ? null : ratioPerRound(group, cells, 'direct'),
      vsInApp: first.target === 'in-app' ? null : ratioPerRound(group, cells, 'in-app'),
      vsProbe: first.target === 'probe' ? null : ratioPerRound(group, cells, 'probe'),
      vsEdgeBefore: first.target === 'edge' ? ratioPerRound(group, cells, 'edge-before') : null,
      vsProbeReloadFree: first.target === 'probe' ? null : ratioPerRound(group.filter((c) => cohortReloads(c.edgeTrace) === 0), cells, 'probe'),
      redisRoundTripsPerRequest: medianOrNull(group.map((c) => c.redisRoundTripsPerRequest)),
      steadyRoundTripsPerRequest: medianOrNull(group.map((c) => c.steadyRoundTripsPerRequest)),
      cohortReloads: group.reduce((n, c) => n + cohortReloads(c.edgeTrace), 0),
      maxCohortLoadMs: group.some((c) => (c.edgeTrace?.cohortLoadMs.length ?? 0) > 0)
        ? Math.max(...group.flatMap((c) => c.edgeTrace?.cohortLoadMs ?? []))
        : null,
      fillWaits: group.reduce((n, c) => n + (c.edgeTrace?.fillWaits ?? 0), 0),
      dbQueriesPer1k: medianOrNull(group.map((c) => c.dbQueriesPer1k)),
      cohortBytesPerRequest: medianOrNull(group.map((c) => c.cohortBytesPerRequest)),
      canaryShare: medianOrNull(group.map((c) => c.canaryShare)),
      peakRssMiB: medianOrNull(group.map((c) => c.peakRssMiB)),
      failures: group.reduce((n, c) => n + c.load.errors + c.load.non2xx, 0),
      dbQueries: group.reduce((n, c) => n + Math.round(((c.dbQueriesPer1k ?? 0) * c.handled) / 1000), 0),
      handled: group.reduce((n, c) => n + c.handled, 0),
      seconds: group.reduce((n, c) => n + c.load.seconds, 0),
    });
  }
  return out;
}

/** The summary of one cell, if it was measured. */
export function lookup(
  summaries: Map<string, CellSummary>,
  cohort: number,
  target: TargetName,
  connections: number,
  variant: CohortVariant = 'pinned',
): CellSummary | undefined {
  return summaries.get(key(cohort, target, connections, variant));
}

/**
 * (design ÷ probe at this cohort) / (design ÷ probe at the first cohort): the cohort's effect with machine drift
 * cancelled; `reloadFree` uses only rounds in which the edge did not reload its cached cohort.
 */
export function cohortEffect(s: Map<string, CellSummary>, target: 'edge' | 'in-app', base: number, cohort: number, c: number, reloadFree = false): number | null {
  const pick = (x: CellSummary | undefined): number | null => (reloadFree ? x?.vsProbeReloadFree : x?.vsProbe) ?? null;
  const now = pick(lookup(s, cohort, target, c));
  const then = pick(lookup(s, base, target, c));
  return now === null || then === null ? null : now / then;
}
