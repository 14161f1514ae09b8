import { CloseStack } from '../../core/lifecycle/close-all.js';
import type { LogLine } from '../../dev/origin/origin-processes.js';
import { ORIGIN_ENV } from '../../origin/config.js';
import { CANARY_WORKER_JOBS, WORKER_JOBS } from '../../origin/queues/queue-names.js';
import type { CleanupStack } from '../support/cleanup-stack.js';
import { checkMove } from './check-move.js';
import type { MoveCheck } from './check-move.js';
import { currentRssMiB, numberField, secondsSince, startMoveTopology } from './move-topology.js';
import { startRedisMemoryPoller } from './redis-memory.js';
import { startRssSampler } from './rss-sampler.js';
import type { RssTrace } from './rss-sampler.js';
import { seedBacklog } from './seed-backlog.js';
import { seedRolloutPlatforms } from './seed-rollout-platforms.js';

/** What a release step asks of the mover: the whole move within this many seconds and this much RSS growth. */
export const STEP_MOVE_GOAL = { seconds: 60, rssGrowthMiB: 256 } as const;

/** One rollout step that moves many platforms' waiting jobs: how long, what the moving app's memory did, whether every job arrived once. */
export interface StepMoveResult extends MoveCheck {
  platforms: number;
  jobsPerPlatform: number;
  /** platforms × jobsPerPlatform. */
  jobs: number;
  /** Payload of one job. */
  jobKiB: number;
  /** jobs × jobKiB. */
  backlogMiB: number;
  /** Seeded waiting (the rest delayed). */
  waitingJobs: number;
  /** AP_FLIP_MOVE_PAGE_SIZE the apps ran with. */
  pageSize: number;
  /** Adding the platforms and the backlog (flow_run rows, then jobs). */
  seedSeconds: number;
  /** From the rollout request to the line reporting `workerJobs` swept ('fleet rebalanced' from it): the move. */
  moveSeconds: number;
  /** From the rollout request to the first poll (every 100 ms) finding the whole backlog on `canaryWorkerJobs`. */
  arrivedSeconds: number;
  /** From the rollout request to 'flip handled': the move and the sweep of `canaryWorkerJobs`, which reads every job there and moves none back. */
  rebalanceSeconds: number;
  /** The app whose RSS the rss* fields are: the one that moved the jobs. */
  handler: string;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  rssAfterMiB: number;
  rssSamples: number;
  /** Peak RSS growth of the other app. */
  otherAppGrowthMiB: number;
  /** Every 'fleet rebalanced' line of the step, from either app. */
  sweeps: SweepReport[];
  /** Server-wide `used_memory` before seeding and at its peak (seeding or move). */
  redisUsedMiBBefore: number | null;
  redisUsedMiBPeak: number | null;
  /** Seconds, RSS growth, lost and duplicated all within STEP_MOVE_GOAL. */
  goalMet: boolean;
}

/** One app's 'fleet rebalanced' line: one sweep of one fleet's queue. */
export interface SweepReport {
  app: string;
  from: string;
  to: string;
  moved: number;
  skipped: number;
  scanned: number;
  pages: number;
  batches: number;
  /** Platforms whose membership the rebalance looked up. */
  platforms: number;
  /** From the rollout request to this line. */
  seconds: number;
}

export interface StepMoveOptions {
  platforms: number;
  jobsPerPlatform: number;
  /** Payload bytes of each job. */
  jobBytes: number;
  /** AP_FLIP_MOVE_PAGE_SIZE; the app's default when omitted. */
  pageSize?: number;
  /** Every how many jobs one is added waiting, the others delayed: 2 (half waiting) when omitted, 1 for all waiting. */
  waitingEvery?: number;
  /** NODE_OPTIONS of the apps (a heap limit, an `--import` of a profiler); none when omitted. */
  nodeOptions?: string;
  log: (line: string) => void;
  /** The caller's cleanup stack, when it owns SIGINT/SIGTERM (see measureFlipMemory). */
  cleanup?: CleanupStack;
}

const LABEL = 'step move';
const RSS_SAMPLE_MS = 50;
const POLL_MS = 100;
const PROGRESS_MS = 5_000;
// Half the backlog waits, half is delayed (retries in backoff): a step moves both, from two states of the queue.
const DEFAULT_WAITING_EVERY = 2;

function sweepOf(app: string, startedAt: number, line: LogLine): SweepReport {
  return {
    app,
    from: String(line.from),
    to: String(line.to),
    moved: numberField(line, 'moved'),
    skipped: numberField(line, 'skipped'),
    scanned: numberField(line, 'scanned'),
    pages: numberField(line, 'pages'),
    batches: numberField(line, 'batches'),
    platforms: numberField(line, 'platforms'),
    seconds: secondsSince(startedAt, line),
  };
}

/**
 * Seeds `platforms` platforms following the rollout (at 0%) with `jobsPerPlatform` jobs each on `workerJobs`, sets the
 * rollout to 100% through the edge's admin route, and measures the move of every job to `canaryWorkerJobs` on apps,
 * an edge and stores of its own, which it removes after.
 */
export async function measureStepMove(options: StepMoveOptions): Promise<StepMoveResult> {
  const { log } = options;
  for (const [name, value] of Object.entries({ platforms: options.platforms, jobsPerPlatform: options.jobsPerPlatform, jobBytes: options.jobBytes })) {
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got ${value}`);
  }
  const jobs = options.platforms * options.jobsPerPlatform;
  const pageSize = options.pageSize ?? ORIGIN_ENV.AP_FLIP_MOVE_PAGE_SIZE.schema.parse(undefined);
  const stack = new CloseStack();
  let closing: Promise<void> | null = null;
  const cleanup = (): Promise<void> => (closing ??= stack.close());
  options.cleanup?.add(LABEL, null, cleanup);
  try {
    log(`${LABEL}: ${options.platforms} platforms × ${options.jobsPerPlatform} jobs × ${(options.jobBytes / 1024).toFixed(1)} KiB, page ${pageSize}: starting stores, apps and edge`);
    const appEnv: Record<string, string> = { AP_FLIP_MOVE_PAGE_SIZE: String(pageSize) };
    if (options.nodeOptions !== undefined) appEnv.NODE_OPTIONS = options.nodeOptions;
    const { pool, redis, infoRedis, source, target, apps, edge } = await startMoveTopology(stack, { label: LABEL, appEnv, canaryApp: true, log, cleanup: options.cleanup });

    const rollout = (await (await edge.call('GET', '/v1/admin/canary/rollout')).json()) as { percent?: unknown };
    if (rollout.percent !== 0) throw new Error(`a fresh database should start at rollout 0%, got ${JSON.stringify(rollout)}`);
    const redisMemory = await startRedisMemoryPoller(infoRedis);
    const seedStarted = performance.now();
    const owners = await seedRolloutPlatforms(pool, options.platforms);
    const seeded = await seedBacklog({ pool, queue: source, owners, jobs, jobBytes: options.jobBytes, waitingEvery: options.waitingEvery ?? DEFAULT_WAITING_EVERY, label: LABEL, log });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const counts = await source.getJobCounts('waiting', 'delayed');
    if (counts.waiting !== jobs - seeded.delayed.size || counts.delayed !== seeded.delayed.size) {
      throw new Error(`seeded ${jobs - seeded.delayed.size} waiting and ${seeded.delayed.size} delayed jobs but ${WORKER_JOBS} holds ${JSON.stringify(counts)}`);
    }
    log(`${LABEL}: seeded in ${seedSeconds.toFixed(1)} s (Redis used_memory ${(redisMemory.peakMiB() ?? Number.NaN).toFixed(0)} MiB); rollout 0% → 100%`);

    const isRebalanced = (l: LogLine): boolean => l.msg === 'flip handled' && l.scope === 'all';
    const handledBefore = apps.map((a) => a.process.logs.filter(isRebalanced).length);
    const timeoutMs = 120_000 + 10 * jobs;
    const sampler = startRssSampler(apps.map((a) => a.process.pid), RSS_SAMPLE_MS);
    let traces: RssTrace[] = [];
    let arrivedSeconds = Number.NaN;
    let rebalanceSeconds = 0;
    const started = performance.now();
    const startedAt = Date.now();
    let watching = true;
    // Polls the queues' counts: when the backlog has arrived, and progress lines.
    const watch = (async () => {
      let lastProgress = performance.now();
      while (watching) {
        try {
          const [left, arrived] = await Promise.all([source.getJobCountByTypes('waiting', 'delayed', 'prioritized'), target.getJobCountByTypes('waiting', 'delayed', 'prioritized')]);
          if (Number.isNaN(arrivedSeconds) && left === 0 && arrived === jobs) arrivedSeconds = (performance.now() - started) / 1000;
          if (performance.now() - lastProgress >= PROGRESS_MS) {
            lastProgress = performance.now();
            const rss = apps.map((a) => `${a.process.name} ${currentRssMiB(a.process.pid).toFixed(0)} MiB`);
            log(`${LABEL}: ${left} left on ${WORKER_JOBS}, ${arrived} on ${CANARY_WORKER_JOBS} after ${((performance.now() - started) / 1000).toFixed(0)} s; RSS ${rss.join(', ')}`);
          }
        } catch (error) {
          // A failed poll costs a progress line; the wait for 'flip handled' decides whether the run failed.
          log(`${LABEL}: progress poll failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    })();
    try {
      const handled = Promise.any(apps.map((a, i) => a.process.waitForLogCount(isRebalanced, (handledBefore[i] ?? 0) + 1, timeoutMs)));
      const response = await edge.call('PUT', '/v1/admin/canary/rollout', { percent: 100, reason: 'step move bench' });
      if (response.status !== 200) throw new Error(`the rollout change answered ${response.status}: ${await response.text()}`);
      await handled;
      rebalanceSeconds = (performance.now() - started) / 1000;
    } finally {
      watching = false;
      await watch.catch(() => undefined);
      traces = sampler.stop();
    }
    const redisTrace = await redisMemory.stop();

    const sweeps = apps.flatMap((a) => a.process.find('fleet rebalanced').map((line) => sweepOf(a.process.name, startedAt, line)));
    for (const s of sweeps) log(`${LABEL}: ${s.app} swept ${s.from}: moved ${s.moved} (skipped ${s.skipped}, scanned ${s.scanned}, ${s.pages} pages, ${s.batches} batches, ${s.platforms} platforms) by ${s.seconds.toFixed(1)} s`);
    const moves = sweeps.filter((s) => s.from === WORKER_JOBS).sort((a, b) => b.moved - a.moved);
    const top = moves[0];
    const handlerIndex = apps.findIndex((a) => a.process.name === top?.app);
    const trace = traces[handlerIndex];
    const other = traces[1 - handlerIndex];
    if (top === undefined || trace === undefined || other === undefined) throw new Error(`no app reported sweeping ${WORKER_JOBS}`);
    const moveSeconds = Math.max(...moves.map((m) => m.seconds));
    log(`${LABEL}: moved in ${moveSeconds.toFixed(1)} s (rebalance done in ${rebalanceSeconds.toFixed(1)} s); checking every job id`);
    const check = await checkMove(redis, source, target, seeded);
    const rssGrowthMiB = trace.peakMiB - trace.beforeMiB;
    const jobKiB = options.jobBytes / 1024;
    return {
      platforms: options.platforms,
      jobsPerPlatform: options.jobsPerPlatform,
      jobs,
      jobKiB,
      backlogMiB: (jobs * jobKiB) / 1024,
      waitingJobs: jobs - seeded.delayed.size,
      pageSize,
      seedSeconds,
      moveSeconds,
      arrivedSeconds,
      rebalanceSeconds,
      handler: top.app,
      rssBeforeMiB: trace.beforeMiB,
      rssPeakMiB: trace.peakMiB,
      rssGrowthMiB,
      rssAfterMiB: trace.afterMiB,
      rssSamples: trace.samples,
      otherAppGrowthMiB: other.peakMiB - other.beforeMiB,
      sweeps,
      ...check,
      redisUsedMiBBefore: redisTrace.beforeMiB,
      redisUsedMiBPeak: redisTrace.peakMiB,
      goalMet: moveSeconds <= STEP_MOVE_GOAL.seconds && rssGrowthMiB <= STEP_MOVE_GOAL.rssGrowthMiB && check.lost === 0 && check.duplicated === 0 && check.leftOnSource === 0,
    };
  } finally {
    log(`${LABEL}: cleaning up (stopping apps and edge, dropping the database, flushing the Redis database)`);
    await cleanup();
  }
}
