import { CloseStack } from '../../core/lifecycle/close-all.js';
import { FLIPS_STREAM_KEY } from '../../core/membership/index.js';
import type { LogLine } from '../../dev/origin/origin-processes.js';
import { ORIGIN_ENV } from '../../origin/config.js';
import { FLIPS_GROUP } from '../../origin/queues/flips-consumer.js';
import { WORKER_JOBS } from '../../origin/queues/queue-names.js';
import { seedPlatforms } from '../../testkit/origin-fixtures.js';
import type { CleanupStack } from '../support/cleanup-stack.js';
import { checkMove } from './check-move.js';
import type { MoveCheck } from './check-move.js';
import { currentRssMiB, numberField, secondsSince, startMoveTopology } from './move-topology.js';
import { startRedisMemoryPoller } from './redis-memory.js';
import { startRssSampler } from './rss-sampler.js';
import type { RssTrace } from './rss-sampler.js';
import { seedBacklog } from './seed-backlog.js';

/** One flip of a large backlog: what the moving app's memory did, how long it took, and whether every job arrived. */
export interface FlipMemoryResult extends MoveCheck {
  jobs: number;
  /** Payload of one job. */
  jobMiB: number;
  /** jobs × jobMiB. */
  backlogMiB: number;
  /** AP_FLIP_MOVE_PAGE_SIZE the apps ran with. */
  pageSize: number;
  /** Adding the backlog to Redis (and its flow_run rows to Postgres). */
  seedSeconds: number;
  /** From the flip request to the last 'flip handled' line. */
  moveSeconds: number;
  /** The app whose RSS the rss* fields are: the one that moved the most jobs (all of them, unless another took over). */
  handler: string;
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  rssAfterMiB: number;
  /** VmRSS reads taken during the move (every RSS_SAMPLE_MS). */
  rssSamples: number;
  /** Peak RSS growth of the other app (non-zero work means it moved jobs too). */
  otherAppGrowthMiB: number;
  /** The apps' --max-old-space-size; null = Node's default. */
  heapLimitMiB: number | null;
  /** Each app that ran this move, from its 'platform jobs moved' line: more than one means another app claimed the flip entry while it was being handled. */
  movers: MoverReport[];
  /** AP_FLIPS_CLAIM_IDLE_MS the apps ran with. */
  claimIdleMs: number;
  /** Server-wide `used_memory` before seeding and at its peak (seeding or move). */
  redisUsedMiBBefore: number | null;
  redisUsedMiBPeak: number | null;
}

/** One app's 'platform jobs moved' line for the flipped platform (concurrent moves both count the jobs they both moved). */
export interface MoverReport {
  app: string;
  moved: number;
  skipped: number;
  scanned: number;
  pages: number;
  /** From the flip request to this app's line. */
  seconds: number;
}

export interface FlipMemoryOptions {
  jobs: number;
  /** Payload bytes of each job. */
  jobBytes: number;
  /** AP_FLIP_MOVE_PAGE_SIZE; the app's default when omitted. */
  pageSize?: number;
  /** --max-old-space-size of the apps; Node's default when omitted. */
  heapLimitMiB?: number;
  /** AP_FLIPS_CLAIM_IDLE_MS; the app's default when omitted (a move longer than it is taken over by the other app). */
  claimIdleMs?: number;
  log: (line: string) => void;
  /**
   * The caller's cleanup stack, when it owns SIGINT/SIGTERM: this run's resources are registered on it too, so an
   * interrupted run still drops its database and flushes its Redis database (gigabytes, here).
   */
  cleanup?: CleanupStack;
}

const RSS_SAMPLE_MS = 50;
const PROGRESS_MS = 5_000;
// Slack for the last app to finish after the first one logged 'flip handled' (a takeover finishes within a page).
const SETTLE_MS = 2_000;

type XPendingRow = [id: string, consumer: string, idleMs: number, deliveries: number];

function isPendingRows(reply: unknown): reply is XPendingRow[] {
  return Array.isArray(reply) && reply.every((row) => Array.isArray(row) && typeof row[1] === 'string');
}

/** Runs one flip of a `jobs × jobBytes` backlog on apps, an edge and stores of its own, and removes them all after. */
export async function measureFlipMemory(options: FlipMemoryOptions): Promise<FlipMemoryResult> {
  const { log } = options;
  if (!Number.isInteger(options.jobs) || options.jobs <= 0 || !Number.isInteger(options.jobBytes) || options.jobBytes <= 0) {
    throw new Error(`jobs and jobBytes must be positive integers, got ${options.jobs} and ${options.jobBytes}`);
  }
  const pageSize = options.pageSize ?? ORIGIN_ENV.AP_FLIP_MOVE_PAGE_SIZE.schema.parse(undefined);
  const claimIdleMs = options.claimIdleMs ?? ORIGIN_ENV.AP_FLIPS_CLAIM_IDLE_MS.schema.parse(undefined);
  const stack = new CloseStack();
  let closing: Promise<void> | null = null;
  const cleanup = (): Promise<void> => (closing ??= stack.close());
  options.cleanup?.add('flip memory', null, cleanup);
  try {
    log(`flip memory: ${options.jobs} × ${(options.jobBytes / 1024).toFixed(0)} KiB, page ${pageSize}: starting stores, apps and edge`);
    const appEnv: Record<string, string> = { AP_FLIP_MOVE_PAGE_SIZE: String(pageSize), AP_FLIPS_CLAIM_IDLE_MS: String(claimIdleMs) };
    if (options.heapLimitMiB !== undefined) appEnv.NODE_OPTIONS = `--max-old-space-size=${options.heapLimitMiB}`;
    const { pool, redis, infoRedis, source, target, apps, edge } = await startMoveTopology(stack, { label: 'flip memory', appEnv, log, cleanup: options.cleanup });

    const [platform] = await seedPlatforms(pool, [{ canary: false }]);
    if (platform === undefined) throw new Error('no platform seeded');
    const redisMemory = await startRedisMemoryPoller(infoRedis);
    const seedStarted = performance.now();
    const seeded = await seedBacklog({ pool, queue: source, owners: [platform], jobs: options.jobs, jobBytes: options.jobBytes, log });
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const waiting = await source.getDelayedCount();
    if (waiting !== options.jobs) throw new Error(`seeded ${options.jobs} jobs but ${WORKER_JOBS} holds ${waiting} delayed`);
    log(`flip memory: seeded in ${seedSeconds.toFixed(1)} s (Redis used_memory ${(redisMemory.peakMiB() ?? Number.NaN).toFixed(0)} MiB); flipping`);

    const isHandled = (l: LogLine): boolean => l.msg === 'flip handled' && l.platformId === platform.platformId;
    const sampler = startRssSampler(apps.map((a) => a.process.pid), RSS_SAMPLE_MS);
    const timeoutMs = 120_000 + 200 * (options.jobs * options.jobBytes) / 1024 / 1024;
    const owners = new Set<string>();
    let traces: RssTrace[] = [];
    let moveSeconds = 0;
    const flipStarted = performance.now();
    const flipStartedAt = Date.now();
    let watching = true;
    // Which apps held the flip entry (XPENDING names its consumer, `<app name>-<random>`), and progress lines.
    const watch = (async () => {
      let lastProgress = performance.now();
      while (watching) {
        try {
          const pending = await redis.call('XPENDING', FLIPS_STREAM_KEY, FLIPS_GROUP, '-', '+', '10');
          if (isPendingRows(pending)) for (const row of pending) owners.add(row[1]);
          if (performance.now() - lastProgress >= PROGRESS_MS) {
            lastProgress = performance.now();
            const left = await source.getDelayedCount();
            const rss = apps.map((a) => `${a.process.name} ${currentRssMiB(a.process.pid).toFixed(0)} MiB`);
            log(`flip memory: moving, ${left} left on ${WORKER_JOBS} after ${((performance.now() - flipStarted) / 1000).toFixed(0)} s; RSS ${rss.join(', ')}`);
          }
        } catch (error) {
          // A failed poll costs a progress line; the wait for 'flip handled' decides whether the run failed.
          log(`flip memory: progress poll failed: ${error instanceof Error ? error.message : String(error)}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    try {
      const handled = Promise.any(apps.map((a) => a.process.waitForLog(isHandled, timeoutMs)));
      const response = await edge.flip(platform.platformId, true);
      if (response.status !== 200) throw new Error(`flip answered ${response.status}: ${await response.text()}`);
      await handled;
      // An app that took the entry over is still moving: wait for its line too, then a little for one that just did.
      for (const app of apps) {
        if ([...owners].some((o) => o.startsWith(`${app.process.name}-`))) await app.process.waitForLog(isHandled, timeoutMs);
      }
      moveSeconds = (performance.now() - flipStarted) / 1000;
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    } finally {
      watching = false;
      await watch.catch(() => undefined);
      traces = sampler.stop();
    }
    const redisTrace = await redisMemory.stop();

    const movers: MoverReport[] = [];
    for (const app of apps) {
      for (const line of app.process.find('platform jobs moved', { platformId: platform.platformId })) {
        const report: MoverReport = {
          app: app.process.name,
          moved: numberField(line, 'moved'),
          skipped: numberField(line, 'skipped'),
          scanned: numberField(line, 'scanned'),
          pages: numberField(line, 'pages'),
          seconds: secondsSince(flipStartedAt, line),
        };
        movers.push(report);
        log(`flip memory: ${report.app} moved ${report.moved} (skipped ${report.skipped}, scanned ${report.scanned}, ${report.pages} pages) by ${report.seconds.toFixed(1)} s`);
      }
    }
    const top = [...movers].sort((a, b) => b.moved - a.moved)[0];
    const handlerIndex = Math.max(0, apps.findIndex((a) => a.process.name === top?.app));
    const handlerApp = apps[handlerIndex];
    const trace = traces[handlerIndex];
    const other = traces[1 - handlerIndex];
    if (handlerApp === undefined || trace === undefined || other === undefined || top === undefined) throw new Error('no app moved the backlog');
    log(`flip memory: moved in ${moveSeconds.toFixed(1)} s by ${movers.map((m) => m.app).join(' and ')}; checking every job id`);
    const check = await checkMove(redis, source, target, seeded);
    const jobMiB = options.jobBytes / 1024 / 1024;
    return {
      jobs: options.jobs,
      jobMiB,
      backlogMiB: options.jobs * jobMiB,
      pageSize,
      seedSeconds,
      moveSeconds,
      handler: handlerApp.process.name,
      rssBeforeMiB: trace.beforeMiB,
      rssPeakMiB: trace.peakMiB,
      rssGrowthMiB: trace.peakMiB - trace.beforeMiB,
      rssAfterMiB: trace.afterMiB,
      rssSamples: trace.samples,
      otherAppGrowthMiB: other.peakMiB - other.beforeMiB,
      heapLimitMiB: options.heapLimitMiB ?? null,
      movers,
      claimIdleMs,
      ...check,
      redisUsedMiBBefore: redisTrace.beforeMiB,
      redisUsedMiBPeak: redisTrace.peakMiB,
    };
  } finally {
    log('flip memory: cleaning up (stopping apps and edge, dropping the database, flushing the Redis database)');
    await cleanup();
  }
}
