import http from 'node:http';
import { Redis } from 'ioredis';
import { COHORT_KEY } from '../../core/membership/keys.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { drillPlan, runDrills } from './drills.js';
import { driveFixedRate } from './fixed-rate.js';
import type { FixedRateResult } from './fixed-rate.js';
import { Flipper } from './flipper.js';
import { MembershipLedger } from './ledger.js';
import type { DrillWindow } from './ledger.js';
import { sendRequest } from './send-request.js';
import type { Outcome } from './send-request.js';
import { summariseSoak } from './soak-summary.js';
import type { SoakSummary } from './soak-summary.js';
import type { SoakOptions } from './soak-options.js';

export type { SoakOptions };
import { requestFor, seedFixture, trafficMix } from './traffic.js';
import type { PlatformFixture } from './traffic.js';


type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function seedFixtures(h: EdgeHarness, count: number, canaryCount: number, tokenSeconds: number): Promise<PlatformFixture[]> {
  const fixtures: PlatformFixture[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => seedFixture(h, i + j < canaryCount, tokenSeconds));
    fixtures.push(...(await Promise.all(batch)));
  }
  return fixtures;
}

/**
 * Soak with flips (and optionally fault drills) against a running edge harness: a fixed request rate over many
 * platforms while one platform flips every second; every answer is judged against the acknowledged membership.
 */
export async function runSoak(h: EdgeHarness, options: SoakOptions): Promise<SoakSummary> {
  const tokenSeconds = options.seconds + 3600;
  const statics = await seedFixtures(h, options.platforms, Math.round(options.platforms * options.canaryFraction), tokenSeconds);
  const flipping = await seedFixture(h, false, tokenSeconds);
  const ledger = new MembershipLedger(new Map([...statics, flipping].map((f) => [f.id, f.canary])));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const redis = new Redis(h.redisDb.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  await redis.connect();
  const outcomes: Outcome[] = [];
  const send = async (request: ReturnType<typeof requestFor>): Promise<void> => {
    outcomes.push(await sendRequest(h.url, agent, request));
  };
  try {
    // Warm every resolver entry (flow -> platform, key -> platform; TTL 300 s) and the cohort before the clock starts,
    // so a drill never meets a cold resolver. These answers are judged like all others.
    for (const fixture of [...statics, flipping]) {
      await Promise.all((['jwt', 'api-key', 'webhook'] as const).map((kind) => send(requestFor(fixture, kind, -1))));
    }
    const flipper = new Flipper({
      flip: async (platformId, canary) => {
        try {
          const res = await h.admin({ platformId, canary });
          await res.arrayBuffer();
          return res.status;
        } catch {
          return 0;
        }
      },
      ledger,
      platformId: flipping.id,
      initial: flipping.canary,
      intervalMs: options.flipIntervalMs,
      retryMs: 100,
    });
    const startedAt = performance.now();
    const stopAt = startedAt + options.seconds * 1000;
    options.log(`soak: ${options.rate} req/s for ${options.seconds} s over ${statics.length + 1} platforms; one flips every ${options.flipIntervalMs} ms`);
    const flips = settle(flipper.run(stopAt, stopAt + 30_000));
    const drills = settle(
      options.drills
        ? runDrills(drillPlan(options.seconds, options.drillSeconds), {
            harness: h,
            flipper,
            startedAt,
            warmRequest: () => send(requestFor(flipping, 'jwt', -2)),
            cohortExists: async () => (await redis.exists(COHORT_KEY)) === 1,
            log: options.log,
          })
        : Promise.resolve<DrillWindow[]>([]),
    );
    const pick = trafficMix(statics, flipping, options.flipShare);
    const load: FixedRateResult = await driveFixedRate({ rate: options.rate, seconds: options.seconds, maxInFlight: 2_000, launch: (n) => send(pick(n)) });
    const [flipResult, drillResult] = await Promise.all([flips, drills]);
    if (!flipResult.ok) throw flipResult.error;
    if (!drillResult.ok) throw drillResult.error;
    return summariseSoak({ options, load, outcomes, ledger, drills: drillResult.value, flipper: flipper.stats, edgeLogs: h.logs });
  } finally {
    agent.destroy();
    await redis.quit();
  }
}
