import http from 'node:http';
import { Redis } from 'ioredis';
import { COHORT_KEY } from '../../core/membership/keys.js';
import type { RolloutState } from '../../core/membership/effective.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';
import { adminCall } from './admin-change.js';
import { drillPlan, runDrills } from './drills.js';
import type { DrillsResult } from './drills.js';
import { driveFixedRate } from './fixed-rate.js';
import type { FixedRateResult } from './fixed-rate.js';
import { Flipper } from './flipper.js';
import { GuardApp, SOAK_GUARD, wallToPerf } from './guard-app.js';
import type { PlanTransitionLine } from './guard-app.js';
import type { SoakPlanOutcome } from './soak-summary.js';
import { guardAuditEntries } from './guard-drill.js';
import type { GuardDrillRecord } from './guard-drill.js';
import type { QuarantineDrillRecord } from './quarantine-drill.js';
import { MembershipLedger } from './ledger.js';
import { ROLLOUT_START_PERCENT, RolloutChanger, rolloutOfAnswer } from './rollout-changer.js';
import { sendRequest } from './send-request.js';
import type { Outcome } from './send-request.js';
import { summariseSoak } from './soak-summary.js';
import type { SoakSummary } from './soak-summary.js';
import { SOAK_PLAN, platformMix } from './soak-options.js';
import type { SoakOptions } from './soak-options.js';
import { requestFor, seedFixture, trafficMix } from './traffic.js';
import type { PlatformFixture } from './traffic.js';

export type { SoakOptions };

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The explicit choice of static platform `i`: the first `pinned` are pinned in, up to `explicit` kept out, the rest follow. */
function choiceOf(i: number, explicit: number, pinned: number): boolean | null {
  return i < pinned ? true : i < explicit ? false : null;
}

async function seedFixtures(h: EdgeHarness, count: number, choice: (i: number) => boolean | null, tokenSeconds: number): Promise<PlatformFixture[]> {
  const fixtures: PlatformFixture[] = [];
  for (let i = 0; i < count; i += 10) {
    const batch = Array.from({ length: Math.min(10, count - i) }, (_, j) => seedFixture(h, choice(i + j), tokenSeconds, i + j + 1));
    fixtures.push(...(await Promise.all(batch)));
  }
  return fixtures;
}

/** Sets the rollout the load starts with; its answer tells the salt the percentage rule hashes with. */
async function startRollout(h: EdgeHarness, percent: number): Promise<RolloutState> {
  const answer = await adminCall(h, 'PUT', '/v1/admin/canary/rollout', { percent, reason: 'soak: start' });
  const rollout = answer.status === 200 ? rolloutOfAnswer(answer.body) : null;
  if (rollout === null) throw new Error(`could not set the starting rollout: ${answer.status} ${JSON.stringify(answer.body)}`);
  return rollout;
}

/**
 * After the run: every pause or quarantine by the judge that was not one of its drills' goes into the ledger too (so
 * answers are judged against what routing really was) and is reported; so is every audit entry by `judge` beyond the
 * drills' one pause and one quarantine.
 */
async function checkJudge(h: EdgeHarness, guard: GuardApp, drills: { guard: GuardDrillRecord | null; quarantine: QuarantineDrillRecord | null }, ledger: MembershipLedger): Promise<string[]> {
  const problems: string[] = [];
  for (const tick of guard.ticks) {
    if (tick === drills.guard?.pauseTick || tick === drills.quarantine?.tick) continue;
    if (tick.action === 'paused') {
      ledger.ack(ledger.beginPause(true, 'judge', wallToPerf(tick.atMs) - 1), tick.observedAt);
      problems.push(`the judge paused canary routing outside its drill (tick at ${tick.at})`);
    } else if (tick.action === 'quarantined') {
      for (const platformId of tick.quarantined) ledger.ack(ledger.begin(platformId, false, wallToPerf(tick.atMs) - 1), tick.observedAt);
      problems.push(`the judge quarantined ${tick.quarantined.join(', ')} outside its drill (tick at ${tick.at})`);
    }
  }
  const entries = await guardAuditEntries(h);
  const expected = new Set([drills.guard?.pauseAudit?.id, drills.quarantine?.audit?.id]);
  for (const entry of entries) {
    if (!expected.has(entry.id)) problems.push(`unexpected audit entry by judge: ${entry.action} at ${entry.at}`);
  }
  return problems;
}

/** How the soak's plan ended, read back through the admin route, with the transitions the judge's app logged. */
async function planOutcome(h: EdgeHarness, id: number, transitions: readonly PlanTransitionLine[]): Promise<SoakPlanOutcome> {
  const answer = await adminCall(h, 'GET', '/v1/admin/canary/plans/current');
  const body = typeof answer.body === 'object' && answer.body !== null ? (answer.body as Record<string, unknown>) : {};
  return {
    id,
    state: answer.status === 200 && body.id === id ? String(body.state) : `unreadable (${answer.status})`,
    holdReason: typeof body.holdReason === 'string' ? body.holdReason : null,
    transitions: transitions.map((t) => ({ transition: t.transition, percent: t.rolloutBasisPoints === null ? null : t.rolloutBasisPoints / 100, reason: t.reason })),
  };
}

/**
 * Soak with flips, rollout changes and (optionally) fault drills against a running edge harness: a fixed request rate
 * over many platforms while one platform flips every second and the rollout percentage changes every few seconds;
 * every answer is judged against the acknowledged routing state.
 */
export async function runSoak(h: EdgeHarness, options: SoakOptions): Promise<SoakSummary> {
  const tokenSeconds = options.seconds + 3600;
  const guardSettings = options.guard ?? SOAK_GUARD;
  const withGuard = options.drills && options.guardDrill !== false;
  // A plan sets the rollout itself (a manual change would hold it): the rollout changer stays off beside one.
  const withPlan = withGuard && options.plan === true;
  const rolloutIntervalMs = withPlan ? 0 : (options.rolloutIntervalMs ?? 5_000);
  const { pinned, keptOut, following } = platformMix(options);
  // The guard app starts while the platforms are seeded: its start (seconds of tsx) is not the soak's business.
  const setupStarted = performance.now();
  const guardStart = withGuard
    ? settle(
        GuardApp.start(h, guardSettings).then((g) => {
          options.log(`soak: guard app ticking ${((performance.now() - setupStarted) / 1000).toFixed(1)} s after its start`);
          return g;
        }),
      )
    : null;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const redis = new Redis(h.redisDb.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  let guard: GuardApp | null = null;
  try {
    await redis.connect();
    const statics = await seedFixtures(h, options.platforms, (i) => choiceOf(i, pinned + keptOut, pinned), tokenSeconds);
    const flipping = await seedFixture(h, false, tokenSeconds, options.platforms + 1);
    const rollout = await startRollout(h, ROLLOUT_START_PERCENT);
    if (guardStart !== null) {
      const started = await guardStart;
      if (!started.ok) throw started.error;
      guard = started.value;
    }
    const ledger = new MembershipLedger(new Map([...statics, flipping].map((f) => [f.id, f.choice])), rollout);
    const outcomes: Outcome[] = [];
    const send = async (request: ReturnType<typeof requestFor>): Promise<void> => {
      outcomes.push(await sendRequest(h.url, agent, request));
    };
    // Warm every resolver entry (flow -> platform, key -> platform; TTL 300 s) and the cohort before the clock starts,
    // so a drill never meets a cold resolver. These answers are judged like all others.
    for (const fixture of [...statics, flipping]) {
      await Promise.all((['jwt', 'api-key', 'webhook'] as const).map((kind) => send(requestFor(fixture, kind, -1))));
    }
    const flipper = new Flipper({
      flip: (platformId, canary) => adminCall(h, 'POST', '/v1/admin/platforms/canary', { platformId, canary }),
      ledger,
      platformId: flipping.id,
      initial: false,
      intervalMs: options.flipIntervalMs,
      retryMs: 100,
    });
    const rolloutChanger =
      rolloutIntervalMs > 0
        ? new RolloutChanger({
            put: (percent) => adminCall(h, 'PUT', '/v1/admin/canary/rollout', { percent }),
            ledger,
            salt: rollout.salt,
            intervalMs: rolloutIntervalMs,
            retryMs: 100,
          })
        : null;
    const startedAt = performance.now();
    const stopAt = startedAt + options.seconds * 1000;
    options.log(
      `soak: ${options.rate} req/s for ${options.seconds} s over ${statics.length + 1} platforms (${pinned} pinned in, ${keptOut} kept out, ` +
        `${following} following the rollout); one flips every ${options.flipIntervalMs} ms; ` +
        (rolloutIntervalMs > 0 ? `the rollout changes every ${rolloutIntervalMs} ms` : `the rollout stays at ${ROLLOUT_START_PERCENT}%`),
    );
    let planId: number | null = null;
    if (withPlan) {
      const answer = await adminCall(h, 'POST', '/v1/admin/canary/plans', SOAK_PLAN);
      const id: unknown = typeof answer.body === 'object' && answer.body !== null ? Reflect.get(answer.body, 'id') : null;
      if (answer.status !== 201 || typeof id !== 'number') throw new Error(`could not start the soak's plan: ${answer.status} ${JSON.stringify(answer.body)}`);
      planId = id;
      options.log(`soak: plan ${id} started (${SOAK_PLAN.steps.map((s) => `${s.percent}%`).join(' -> ')}, bakes of ${SOAK_PLAN.steps[0].bakeSeconds} s)`);
    }
    const flips = settle(flipper.run(stopAt, stopAt + 30_000));
    const rollouts = settle(rolloutChanger?.run(stopAt, stopAt + 30_000) ?? Promise.resolve());
    const drills = settle(
      options.drills
        ? runDrills(drillPlan(options.seconds, options.drillSeconds, withGuard), {
            harness: h,
            changers: rolloutChanger === null ? [flipper] : [flipper, rolloutChanger],
            ledger,
            guard,
            quarantineFixture: statics.find((f) => f.choice === true) ?? null,
            redis,
            startedAt,
            warmRequest: () => send(requestFor(flipping, 'jwt', -2)),
            cohortExists: async () => (await redis.exists(COHORT_KEY)) === 1,
            log: options.log,
          })
        : Promise.resolve<DrillsResult>({ windows: [], guard: null, quarantine: null }),
    );
    const pick = trafficMix(statics, flipping, options.flipShare);
    const load: FixedRateResult = await driveFixedRate({ rate: options.rate, seconds: options.seconds, maxInFlight: 2_000, launch: (n) => send(pick(n)) });
    const [flipResult, rolloutResult, drillResult] = await Promise.all([flips, rollouts, drills]);
    if (!flipResult.ok) throw flipResult.error;
    if (!rolloutResult.ok) throw rolloutResult.error;
    if (!drillResult.ok) throw drillResult.error;
    await guard?.retire();
    // The plan's rollout changes, each from the start of the tick that made it until the soak read its line.
    for (const t of guard?.planTransitions ?? []) {
      if (t.rolloutBasisPoints !== null) ledger.ack(ledger.beginRollout(t.rolloutBasisPoints, rollout.salt, wallToPerf(t.atMs) - 1), t.observedAt);
    }
    const plan = planId === null ? null : await planOutcome(h, planId, guard?.planTransitions ?? []);
    const guardProblems = guard === null ? [] : await checkJudge(h, guard, drillResult.value, ledger);
    return await summariseSoak({
      options,
      load,
      outcomes,
      ledger,
      drills: drillResult.value.windows,
      flipper: flipper.stats,
      rollout: rolloutChanger?.stats ?? null,
      plan,
      guard:
        guard === null
          ? null
          : { settings: guardSettings, drill: drillResult.value.guard, quarantine: drillResult.value.quarantine, ticks: guard.ticks.length, problems: guardProblems },
      edgeLogs: h.logs,
    });
  } finally {
    // A guard still starting (a failure above) is stopped once it is up.
    const started = guardStart === null ? null : await guardStart;
    await (guard ?? (started?.ok === true ? started.value : null))?.retire();
    agent.destroy();
    await redis.quit();
  }
}
