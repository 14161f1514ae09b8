// `npm run bench`: the edge, the seed's in-app design, a bare workerd probe and the direct origin under the same load,
// side by side in one run; prints the tables and writes them into BENCHMARKS.md. Loopback only.
import os from 'node:os';
import type { BenchTopology } from './load/bench-topology.js';
import { startBenchTopology } from './load/bench-topology.js';
import { coldBurst } from './load/cold-burst.js';
import type { ColdBurstResult } from './load/cold-burst.js';
import { loadRequests, seedLoadPlatforms, setCohortSize, signalPlatforms } from './load/cohort.js';
import { measureJudgeCost } from './judge/measure-judge.js';
import { simulationFigures } from './judge/simulation-figures.js';
import { measureCell, quiesceSeedApp, targetUrl } from './load/measure-cell.js';
import type { CellResult, CohortVariant, TargetName } from './load/measure-cell.js';
import { FLIP_PLATFORM, measureUnderFlips, seedFlipPlatform } from './load/flip-load.js';
import { edgeAdmin } from './load/edge-admin.js';
import { measureCohortReloadHeap } from './load/isolate-heap.js';
import { measureHealthCounting, measurePauseStaleness, measureUnknownIds } from './load/operator-checks.js';
import { enterRollout, leaveRollout } from './load/rollout-phase.js';
import { profileEdgeAndProbe } from './profile/profile-step.js';
import { rolloutBucket } from '../core/rollout/bucket.js';
import type { FlipLoadResult } from './load/flip-load.js';
import { measurePathCosts } from './load/path-costs.js';
import { runLoad } from './load/run-load.js';
import { interleavedRatio } from './load/interleaved-ratio.js';
import type { InterleavedRatio } from './load/interleaved-ratio.js';
import { renderBenchReport } from './report/bench-report.js';
import type { BenchConfig } from './report/bench-report.js';
import { writeGeneratedSection } from './report/benchmarks-file.js';
import { fixed, int, ms } from './report/format.js';
import { machineInfo } from './report/machine-info.js';
import { measureFlipMemory } from './flip-memory/measure-flip-memory.js';
import { measureStepMove } from './flip-memory/measure-step-move.js';
import { measureHandover } from './handover/measure-handover.js';
import { measureStreaming } from './streaming/measure-streaming.js';
import { CleanupStack } from './support/cleanup-stack.js';
import { numberEnv } from './support/env.js';
import { exitAfterCleanup } from './support/exit-after-cleanup.js';

function listEnv(name: string, fallback: number[]): number[] {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const values = raw.split(',').map((v) => Number(v.trim()));
  if (values.some((v) => !Number.isInteger(v) || v <= 0)) throw new Error(`${name} must be a comma-separated list of positive integers`);
  return values;
}

/** Defaults fit the whole run in under 10 minutes on a 2-core machine; every knob is an environment variable. */
function readConfig(): BenchConfig {
  return {
    seconds: numberEnv('BENCH_SECONDS', 4),
    rounds: numberEnv('BENCH_ROUNDS', 3),
    warmupSeconds: numberEnv('BENCH_WARMUP_SECONDS', 1),
    connections: listEnv('BENCH_CONNECTIONS', [10, 50, 100]),
    cohorts: listEnv('BENCH_COHORTS', [10, 10_000, 100_000]),
    streamMiB: numberEnv('BENCH_STREAM_MIB', 1024),
    pathRequests: numberEnv('BENCH_PATH_REQUESTS', 1_000),
    coldSeconds: numberEnv('BENCH_COLD_SECONDS', 2),
    coldConnections: numberEnv('BENCH_COLD_CONNECTIONS', 100),
    flipSeconds: numberEnv('BENCH_FLIP_SECONDS', 6),
    heapReloads: numberEnv('BENCH_HEAP_RELOADS', 50),
    pauseRounds: numberEnv('BENCH_PAUSE_ROUNDS', 20),
    healthRate: numberEnv('BENCH_HEALTH_RATE', 200),
    healthSeconds: numberEnv('BENCH_HEALTH_SECONDS', 50),
    healthPlatforms: numberEnv('BENCH_HEALTH_PLATFORMS', 10_000),
    judgePlatforms: numberEnv('BENCH_JUDGE_PLATFORMS', 100_000),
    judgeTicks: numberEnv('BENCH_JUDGE_TICKS', 5),
    unknownIds: numberEnv('BENCH_UNKNOWN_IDS', 10_000),
    profileSeconds: numberEnv('BENCH_PROFILE_SECONDS', 5),
    ratioPairs: numberEnv('BENCH_RATIO_PAIRS', 20),
    ratioCellSeconds: numberEnv('BENCH_RATIO_CELL_SECONDS', 1),
    flipMemoryJobs: numberEnv('BENCH_FLIP_MEMORY_JOBS', 10_000),
    flipMemoryJobKiB: numberEnv('BENCH_FLIP_MEMORY_JOB_KIB', 1024),
    stepMovePlatforms: numberEnv('BENCH_STEP_MOVE_PLATFORMS', 1_000),
    stepMoveJobsPerPlatform: numberEnv('BENCH_STEP_MOVE_JOBS_PER_PLATFORM', 100),
  };
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const n = by % items.length;
  return [...items.slice(n), ...items.slice(0, n)];
}

function progress(cell: CellResult): void {
  const extra = [
    cell.redisRoundTripsPerRequest === null ? '' : `redis ${fixed(cell.redisRoundTripsPerRequest, 2)}/req`,
    cell.dbQueriesPer1k === null ? '' : `db ${fixed(cell.dbQueriesPer1k, 2)}/1k`,
    cell.peakRssMiB === null ? '' : `rss ${fixed(cell.peakRssMiB, 0)} MiB`,
    cell.load.errors + cell.load.non2xx > 0 ? `FAILED ${cell.load.errors + cell.load.non2xx}` : '',
  ].filter((s) => s !== '');
  console.log(
    `  cohort ${int(cell.cohort)} round ${cell.round} c=${cell.connections} ${cell.target.padEnd(6)} ${int(cell.load.rps).padStart(6)} req/s ` +
      `p50 ${ms(cell.load.p50Ms)} p99 ${ms(cell.load.p99Ms)} ms  ${extra.join('  ')}`,
  );
}

async function runMatrix(
  t: BenchTopology,
  config: BenchConfig,
  cohort: number,
  targets: TargetName[],
  connectionsList: number[],
  requests: Parameters<typeof runLoad>[0]['requests'],
  variant: CohortVariant = 'pinned',
): Promise<CellResult[]> {
  const cells: CellResult[] = [];
  for (let round = 1; round <= config.rounds; round++) {
    for (const [index, connections] of connectionsList.entries()) {
      for (const target of rotate(targets, round - 1)) {
        // One warm-up per target and phase (JIT, connection pools); later cells find it warm.
        if (round === 1 && index === 0) {
          await runLoad({ url: targetUrl(t, target), connections, seconds: config.warmupSeconds, requests });
          if (target === 'in-app') await quiesceSeedApp(t);
        }
        const cell = await measureCell(t, { target, cohort, variant, round, connections, seconds: config.seconds, requests });
        progress(cell);
        cells.push(cell);
      }
    }
  }
  return cells;
}

async function main(): Promise<void> {
  const config = readConfig();
  const write = process.env.BENCH_WRITE !== '0' && !process.argv.includes('--no-write');
  const startedAt = new Date();
  const t0 = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const stack = new CleanupStack();
  try {
    console.log('bench: starting origins, Upstash and Neon endpoints, edge, probe, floor Worker and seed app (all on 127.0.0.1)...');
    const t = await startBenchTopology(stack);
    stack.ownSignals();
    const machine = await machineInfo(t.redis, t.pool);
    const platforms = await seedLoadPlatforms(t);
    await seedFlipPlatform(t);
    const requests = await loadRequests(platforms, t.jwtSecret);
    const cells: CellResult[] = [];
    const cold: ColdBurstResult[] = [];
    const ratios: InterleavedRatio[] = [];
    const edgeVsProbe = async (label: string, cohort: number, connections: number, variant: CohortVariant = 'pinned'): Promise<InterleavedRatio> => {
      const cell = (target: 'edge' | 'probe') => () => runLoad({ url: targetUrl(t, target), connections, seconds: config.ratioCellSeconds, requests });
      const r = await interleavedRatio(label, cell('edge'), cell('probe'), { pairs: config.ratioPairs, cellSeconds: config.ratioCellSeconds });
      console.log(`  ${label}${variant === 'pinned' ? '' : ` (${variant})`}: ${fixed(r.median, 3)} (IQR ${fixed(r.q1, 3)}–${fixed(r.q3, 3)}) over ${r.pairs} pairs`);
      return r;
    };
    for (const [index, cohort] of config.cohorts.entries()) {
      console.log(`bench: cohort ${int(cohort)}`);
      await setCohortSize(t, platforms, cohort);
      for (const design of ['edge', 'in-app'] as const) {
        const burst = await coldBurst(t, design, cohort, requests, config.coldConnections, config.coldSeconds);
        console.log(`  cold cache ${design}: ${int(burst.responses)} responses, p99 ${ms(burst.p99Ms)} ms, ${int(burst.dbQueries)} DB queries`);
        cold.push(burst);
      }
      // The probe is in every phase: it does not depend on the cohort, so edge ÷ probe per round cancels machine drift.
      // The baseline build runs beside the edge in the first phase: "before" and "after" from the same rounds.
      const first: TargetName[] = ['direct', 'floor', 'probe', 'edge', ...(t.baseline === null ? [] : (['edge-before'] as const)), 'in-app'];
      const targets: TargetName[] = index === 0 ? first : ['probe', 'edge', 'in-app'];
      // Intermediate cohort sizes run at the middle concurrency only, which keeps the whole bench under 10 minutes.
      const extremeCohort = index === 0 || index === config.cohorts.length - 1;
      const middle = config.connections[Math.floor(config.connections.length / 2)] ?? 50;
      cells.push(...(await runMatrix(t, config, cohort, targets, extremeCohort ? config.connections : [middle], requests)));
      // The ratio goals, from many short interleaved cells (median and interquartile range).
      if (index === 0) {
        for (const connections of config.connections) ratios.push(await edgeVsProbe(`edge ÷ probe, cohort ${int(cohort)}, c=${connections}`, cohort, connections));
      } else if (index === config.cohorts.length - 1) {
        ratios.push(await edgeVsProbe(`edge ÷ probe, cohort ${int(cohort)}, c=${middle}`, cohort, middle));
        console.log(`bench: one flip a second vs none, cohort ${int(cohort)}, c=${middle} (${config.ratioPairs / 2} pairs of ${config.ratioCellSeconds * 2}-s cells)`);
        const flipping = { next: true };
        // One flip a second, each half a second into its second: never on top of the cell's own ramp-up.
        const flipCell = async () => {
          const cellMs = config.ratioCellSeconds * 2 * 1000;
          const started = performance.now();
          const flips = (async () => {
            for (let at = 500; at < cellMs; at += 1000) {
              await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + at - performance.now())));
              flipping.next = !flipping.next;
              await edgeAdmin(t, 'POST', '/v1/admin/platforms/canary', { platformId: FLIP_PLATFORM, canary: flipping.next });
            }
          })();
          const [load] = await Promise.all([runLoad({ url: t.edge.url, connections: middle, seconds: config.ratioCellSeconds * 2, requests }), flips]);
          return load;
        };
        const plainCell = () => runLoad({ url: t.edge.url, connections: middle, seconds: config.ratioCellSeconds * 2, requests });
        const flipRatio = await interleavedRatio(`edge with one flip a second ÷ without, cohort ${int(cohort)}, c=${middle}`, flipCell, plainCell, { pairs: Math.max(2, Math.round(config.ratioPairs / 2)), cellSeconds: config.ratioCellSeconds * 2 });
        console.log(`  ${flipRatio.label}: ${fixed(flipRatio.median, 3)} (IQR ${fixed(flipRatio.q1, 3)}–${fixed(flipRatio.q3, 3)}), p99 ratio ${fixed(flipRatio.p99Ratio, 2)}`);
        ratios.push(flipRatio);
      }
    }
    const flipCohort = config.cohorts.at(-1) ?? 10;
    const flipConnections = config.connections[Math.floor(config.connections.length / 2)] ?? 50;
    console.log(`bench: one flip per second at cohort ${int(flipCohort)}, ${flipConnections} connections`);
    const flipLoads: FlipLoadResult[] = [];
    for (const design of ['edge', 'in-app'] as const) {
      const result = await measureUnderFlips(t, design, flipCohort, flipConnections, config.flipSeconds, requests);
      console.log(`  ${design}: ${result.flips} flips, ${int(result.load.rps)} req/s, p99 ${ms(result.load.p99Ms)} ms, ${int(result.dbQueries)} DB queries by readers`);
      flipLoads.push(result);
    }
    const top = config.cohorts.at(-1) ?? 10;
    const pathConnections = config.connections[0] ?? 10;
    console.log('bench: store cost per resolution path');
    const paths = await measurePathCosts(t, platforms, top, pathConnections, config.pathRequests);
    console.log('bench: store cost per resolution path, tester overrides present');
    const overrides = new Map<string, string>();
    paths.push(
      ...(await measurePathCosts(t, platforms, top, pathConnections, config.pathRequests, 'overrides present', async (platformId) => {
        let token = overrides.get(platformId);
        if (token === undefined) {
          ({ token } = await edgeAdmin<{ token: string }>(t, 'POST', '/v1/admin/canary/overrides', { target: 'canary', ttlSeconds: 3600, platformId }));
          overrides.set(platformId, token);
        }
        return { 'x-canary-override': token };
      })),
    );
    console.log('bench: store cost per resolution path, a release plan running');
    const planStarted = await edgeAdmin<{ id: number }>(t, 'POST', '/v1/admin/canary/plans', { steps: [{ percent: 0, bakeSeconds: 604_800 }], reason: 'bench: a plan running' });
    paths.push(...(await measurePathCosts(t, platforms, top, pathConnections, config.pathRequests, `release plan ${planStarted.id} running`)));
    await edgeAdmin(t, 'POST', '/v1/admin/canary/plans/current/abort', { reason: 'bench: measured' });
    const canaryPlatform = platforms.canary[0];
    if (canaryPlatform === undefined) throw new Error('no canary platform');
    console.log(`bench: isolate heap over ${config.heapReloads} reloads of a ${int(top)}-member cohort`);
    const heap = await measureCohortReloadHeap(t, { cohort: top, reloads: config.heapReloads, canaryPlatformId: canaryPlatform, flipPlatformId: FLIP_PLATFORM, sampleEvery: 5 });
    console.log(`  heap after GC: ${heap.samples.map((x) => fixed(x.usedMiB, 1)).join(', ')} MiB`);
    console.log('bench: kill switch staleness');
    const pause = await measurePauseStaleness(t, canaryPlatform, config.pauseRounds);
    console.log(`  ${pause.staleAfterPause} stale after pause, ${pause.staleAfterResume} after resume (${pause.rounds} rounds)`);
    console.log(`bench: signal recording at ${config.healthRate} req/s over ${int(config.healthPlatforms)} platforms`);
    const healthCounting = await measureHealthCounting(t, await signalPlatforms(t, platforms, config.healthPlatforms), config.healthRate, config.healthSeconds);
    console.log(`  ${int(healthCounting.routed)} routed, ${int(healthCounting.platforms)} platforms, ${healthCounting.healthFlushes} flushes`);
    console.log(`bench: the judge over ${int(config.judgePlatforms)} active platforms (a Redis and a Postgres database of its own)`);
    const judgeCost = await measureJudgeCost({ platforms: config.judgePlatforms, ticks: config.judgeTicks });
    console.log(`  ${fixed(judgeCost.bytesPerPlatformMinute, 1)} bytes per platform-minute; ticks ${judgeCost.tickMs.map((x) => int(x)).join(', ')} ms (${judgeCost.verdict})`);
    const simulation = simulationFigures();
    console.log(`bench: judge simulation, ${simulation.figures.length} scenarios in ${fixed(simulation.seconds, 1)} s`);

    console.log(`bench: rollout 50% over ${int(top)} platforms`);
    const { salt } = await enterRollout(t, platforms, top);
    const inRollout = await Promise.all([...platforms.canary, ...platforms.primary].map(async (id) => (await rolloutBucket(salt, id)) < 5_000));
    const rolloutCanaryShare = inRollout.filter(Boolean).length / inRollout.length;
    const middle = config.connections[Math.floor(config.connections.length / 2)] ?? 50;
    cells.push(...(await runMatrix(t, config, top, ['probe', 'edge'], [middle], requests, 'rollout-50')));
    ratios.push(await edgeVsProbe(`edge ÷ probe, rollout 50% over ${int(top)}, c=${middle}`, top, middle, 'rollout-50'));
    console.log('bench: store cost per resolution path, rollout 50%');
    paths.push(...(await measurePathCosts(t, platforms, top, pathConnections, config.pathRequests, 'rollout 50%')));
    await leaveRollout(t, platforms, top);

    console.log('bench: streaming');
    const streaming = await measureStreaming(t, canaryPlatform, config.streamMiB);
    console.log('bench: CPU profile of the edge and the probe');
    const profile = await profileEdgeAndProbe(t, requests, { connections: config.connections[0] ?? 10, seconds: config.profileSeconds });
    console.log(`bench: ${int(config.unknownIds)} unknown API keys from one client`);
    const unknownIds = await measureUnknownIds(t, config.unknownIds);
    console.log(`  ${int(unknownIds.dbQueries)} DB queries; statuses ${JSON.stringify(unknownIds.statuses)}`);
    console.log(`bench: flip memory, ${int(config.flipMemoryJobs)} × ${int(config.flipMemoryJobKiB)} KiB jobs (a topology of its own)`);
    const flipMemory = await measureFlipMemory({
      jobs: config.flipMemoryJobs,
      jobBytes: config.flipMemoryJobKiB * 1024,
      log: (line) => console.log(`  ${line}`),
      cleanup: stack,
    });
    console.log(`bench: a rollout step moving ${int(config.stepMovePlatforms)} platforms × ${int(config.stepMoveJobsPerPlatform)} jobs of 1 KiB (a topology of its own)`);
    const stepMove = await measureStepMove({
      platforms: config.stepMovePlatforms,
      jobsPerPlatform: config.stepMoveJobsPerPlatform,
      jobBytes: 1024,
      log: (line) => console.log(`  ${line}`),
      cleanup: stack,
    });
    console.log('bench: live sockets following a move, 2,000 clients over 40 platforms (a topology of its own)');
    const handover = await measureHandover({ platforms: 40, perPlatform: 50, canaryPlatforms: 10, flipPlatforms: 10, log: (line) => console.log(`  ${line}`), cleanup: stack });
    const report = renderBenchReport({
      startedAt,
      runtimeSeconds: (performance.now() - t0) / 1000,
      config,
      machine,
      cells,
      cold,
      flipLoads,
      paths,
      streaming,
      baseline: t.baseline === null ? null : { ref: t.baseline.build.ref, sha: t.baseline.build.sha, subject: t.baseline.build.subject },
      profile,
      heap,
      pause,
      healthCounting,
      ratios,
      judgeCost,
      simulation,
      unknownIds,
      rolloutCanaryShare,
      flipMemory,
      stepMove,
      handover,
      edgeLog: t.edgeLog,
      loadAverage: { start: loadAtStart, end: os.loadavg()[0] ?? 0 },
    });
    console.log(`\n${report}\n`);
    if (write) {
      await writeGeneratedSection('bench', report);
      console.log('bench: wrote BENCHMARKS.md');
    }
  } finally {
    await stack.closeAll();
  }
  console.log(`bench: done in ${((performance.now() - t0) / 60_000).toFixed(1)} min`);
}

main()
  .catch((error: unknown) => {
    console.error('bench failed:', error);
    process.exitCode = 1;
  })
  .finally(() => exitAfterCleanup('bench', 0));
