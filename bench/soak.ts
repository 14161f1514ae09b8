// `npm run soak`: a fixed request rate over many platforms while one platform flips every second and the rollout
// percentage changes every 5 s, with fault drills (the canary failing until the real health guard pauses it; Upstash,
// Neon and the canary origin stopped and restarted under load). Loopback only; bounded; exits 0 only when errors and
// misroutes are both 0. SOAK_SECONDS (default 120) shortens it for a quick run; SOAK_ROLLOUT_INTERVAL_MS (default 5000,
// 0 = the rollout stays put) paces the rollout changes; SOAK_GUARD=0 skips the judge's drills; with them, a release
// plan replaces the rollout changer unless SOAK_PLAN=0.
import { Redis } from 'ioredis';
import { startEdgeHarness } from '../testkit/edge-harness.js';
import { writeGeneratedSection } from './report/benchmarks-file.js';
import { machineInfo, machineLine } from './report/machine-info.js';
import { runSoak } from './soak/run-soak.js';
import { renderSoakReport } from './soak/soak-report.js';
import { CleanupStack } from './support/cleanup-stack.js';
import { numberEnv } from './support/env.js';
import { nonNegativeEnv } from './soak/soak-options.js';
import { exitAfterCleanup } from './support/exit-after-cleanup.js';

async function main(): Promise<number> {
  const seconds = numberEnv('SOAK_SECONDS', 120);
  const drills = process.env.SOAK_DRILLS !== '0' && !process.argv.includes('--no-drills');
  const write = process.env.SOAK_WRITE !== '0' && !process.argv.includes('--no-write');
  const startedAt = new Date();
  const stack = new CleanupStack();
  try {
    console.log('soak: starting the edge harness (workerd, local Upstash and Neon endpoints, echo origins; all on 127.0.0.1)...');
    // The Worker's production default store timeout, so drills see the timings a deployment would.
    const h = stack.add('edge harness', await startEdgeHarness({ storeTimeoutMs: 1_000 }), (x) => x.close());
    stack.ownSignals();
    const redis = stack.add('redis client', new Redis(h.redisDb.url, { maxRetriesPerRequest: 1 }), async (r) => {
      await r.quit();
    });
    const machine = machineLine(await machineInfo(redis, h.pool));
    const summary = await runSoak(h, {
      seconds,
      rate: numberEnv('SOAK_RATE', 200),
      platforms: numberEnv('SOAK_PLATFORMS', 200),
      canaryFraction: 0.2,
      flipShare: 0.2,
      flipIntervalMs: 1_000,
      rolloutIntervalMs: nonNegativeEnv('SOAK_ROLLOUT_INTERVAL_MS', 5_000),
      drills,
      guardDrill: process.env.SOAK_GUARD !== '0',
      plan: process.env.SOAK_PLAN !== '0',
      drillSeconds: numberEnv('SOAK_DRILL_SECONDS', Math.max(1, Math.min(8, seconds * 0.06))),
      log: (line) => console.log(line),
    });
    const report = renderSoakReport(summary, startedAt, machine);
    console.log(`\n${report}\n`);
    if (write) {
      await writeGeneratedSection('soak', report);
      console.log('soak: wrote BENCHMARKS.md');
    }
    console.log(`soak: errors ${summary.errors}, misroutes ${summary.misroutes}`);
    return summary.errors === 0 && summary.misroutes === 0 ? 0 : 1;
  } finally {
    await stack.closeAll();
  }
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error('soak failed:', error);
    process.exitCode = 1;
  })
  .finally(() => exitAfterCleanup('soak', 1));
