// `npx tsx bench/flip-memory/run-step-move.ts`: one rollout step (0% → 100%) moving many platforms' queued jobs,
// printed as a markdown section. STEP_MOVE_PLATFORMS (default 1000) platforms with STEP_MOVE_JOBS_PER_PLATFORM
// (default 100) jobs of STEP_MOVE_JOB_KIB (default 1) KiB each, every STEP_MOVE_WAITING_EVERY-th (default 2) waiting
// and the others delayed; STEP_MOVE_PAGE_SIZE overrides the apps' page size, STEP_MOVE_NODE_OPTIONS sets their
// NODE_OPTIONS (e.g. `--max-old-space-size=128`).
import { CleanupStack } from '../support/cleanup-stack.js';
import { numberEnv } from '../support/env.js';
import { exitAfterCleanup } from '../support/exit-after-cleanup.js';
import { measureStepMove } from './measure-step-move.js';
import { renderStepMove } from './render-step-move.js';

async function main(): Promise<void> {
  const stack = new CleanupStack();
  try {
    const optional = (name: string): number | undefined =>
      process.env[name] === undefined || process.env[name] === '' ? undefined : Math.round(numberEnv(name, 1));
    const result = await measureStepMove({
      platforms: Math.round(numberEnv('STEP_MOVE_PLATFORMS', 1_000)),
      jobsPerPlatform: Math.round(numberEnv('STEP_MOVE_JOBS_PER_PLATFORM', 100)),
      jobBytes: Math.round(numberEnv('STEP_MOVE_JOB_KIB', 1) * 1024),
      pageSize: optional('STEP_MOVE_PAGE_SIZE'),
      waitingEvery: optional('STEP_MOVE_WAITING_EVERY'),
      nodeOptions: process.env.STEP_MOVE_NODE_OPTIONS || undefined,
      log: (line) => console.log(line),
      cleanup: stack,
    });
    console.log(`\n${renderStepMove(result)}\n`);
    console.log(JSON.stringify(result));
  } finally {
    await stack.closeAll();
  }
}

main()
  .catch((error: unknown) => {
    console.error('step move failed:', error);
    process.exitCode = 1;
  })
  .finally(() => exitAfterCleanup('step move', 0));
