// `npx tsx bench/handover/run-handover.ts`: live sockets following a flip and a pause, printed as a markdown section
// (then the result as JSON). HANDOVER_PLATFORMS (default 40) platforms × HANDOVER_PER_PLATFORM (default 50) clients
// through the edge, HANDOVER_CANARY_PLATFORMS (default 10) of them pinned to the canary, HANDOVER_FLIP_PLATFORMS
// (default 10) flipped; HANDOVER_RATE sets SOCKET_HANDOVER_RATE (the app's default when unset), HANDOVER_WEBHOOK_RATE
// the webhooks a second run meanwhile (default 10).
import { CleanupStack } from '../support/cleanup-stack.js';
import { numberEnv } from '../support/env.js';
import { exitAfterCleanup } from '../support/exit-after-cleanup.js';
import { measureHandover } from './measure-handover.js';
import { renderHandover } from './render-handover.js';

async function main(): Promise<void> {
  const stack = new CleanupStack();
  try {
    const whole = (name: string, fallback: number): number => Math.round(numberEnv(name, fallback));
    const rate = process.env.HANDOVER_RATE === undefined || process.env.HANDOVER_RATE === '' ? undefined : whole('HANDOVER_RATE', 50);
    const result = await measureHandover({
      platforms: whole('HANDOVER_PLATFORMS', 40),
      perPlatform: whole('HANDOVER_PER_PLATFORM', 50),
      canaryPlatforms: whole('HANDOVER_CANARY_PLATFORMS', 10),
      flipPlatforms: whole('HANDOVER_FLIP_PLATFORMS', 10),
      rate,
      webhookRate: numberEnv('HANDOVER_WEBHOOK_RATE', 10),
      log: (line) => console.log(line),
      cleanup: stack,
    });
    console.log(`\n${renderHandover(result)}\n`);
    console.log(JSON.stringify(result));
    if (!result.goalMet) process.exitCode = 1;
  } finally {
    await stack.closeAll();
  }
}

main()
  .catch((error: unknown) => {
    console.error('handover bench failed:', error);
    process.exitCode = 1;
  })
  .finally(() => exitAfterCleanup('handover', 0));
