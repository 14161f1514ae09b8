/**
 * Polls `check` every `intervalMs` until it returns a value, and resolves with it; after `timeoutMs` rejects with
 * `what`, and whatever `describe` adds about the state (end-to-end drills: the last ticks, the plan, the judge).
 */
export async function pollUntil<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => Promise<string> | string } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${options.describe === undefined ? '' : `; ${await options.describe()}`}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 100)); // polling interval
  }
}

/**
 * Lets the edge send the signals it still holds (an isolate batches them for up to a second), then drops every minute
 * of the judge's evidence: the next drill starts from an empty window and nothing of the last one arrives late.
 */
export async function emptyJudgeWindow(redis: { del(...keys: string[]): Promise<number> }, evidenceKeys: (nowMs: number) => string[]): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // the edge's batching period, plus slack
  await redis.del(...evidenceKeys(Date.now()));
}
