// `npx tsx bench/flip-memory/run-flip-memory.ts`: one flip of a large queued backlog, printed as a markdown section.
// FLIP_MEMORY_JOBS (default 10000) jobs of FLIP_MEMORY_JOB_KIB (default 1024) KiB each; FLIP_MEMORY_PAGE_SIZE,
// FLIP_MEMORY_HEAP_MIB and FLIP_MEMORY_CLAIM_IDLE_MS override the apps' defaults. Redis must hold the backlog.
import { CleanupStack } from '../support/cleanup-stack.js';
import { numberEnv } from '../support/env.js';
import { exitAfterCleanup } from '../support/exit-after-cleanup.js';
import { measureFlipMemory } from './measure-flip-memory.js';
import { renderFlipMemory } from './render-flip-memory.js';

function optionalEnv(name: string): number | undefined {
  return process.env[name] === undefined || process.env[name] === '' ? undefined : numberEnv(name, 1);
}

async function main(): Promise<void> {
  const stack = new CleanupStack();
  try {
    const result = await measureFlipMemory({
      jobs: Math.round(numberEnv('FLIP_MEMORY_JOBS', 10_000)),
      jobBytes: Math.round(numberEnv('FLIP_MEMORY_JOB_KIB', 1024) * 1024),
      pageSize: optionalEnv('FLIP_MEMORY_PAGE_SIZE'),
      heapLimitMiB: optionalEnv('FLIP_MEMORY_HEAP_MIB'),
      claimIdleMs: optionalEnv('FLIP_MEMORY_CLAIM_IDLE_MS'),
      log: (line) => console.log(line),
      cleanup: stack,
    });
    console.log(`\n${renderFlipMemory(result)}\n`);
    console.log(JSON.stringify(result));
  } finally {
    await stack.closeAll();
  }
}

main()
  .catch((error: unknown) => {
    console.error('flip memory failed:', error);
    process.exitCode = 1;
  })
  .finally(() => exitAfterCleanup('flip memory', 0));
