/**
 * Exits `seconds` after a run's own cleanup if something (a handle a library leaked) still keeps the process alive,
 * naming the open resources, so neither a person nor CI waits on a finished run. The timer does not itself keep the
 * process alive.
 */
export function exitAfterCleanup(name: string, fallbackExitCode: number, seconds = 10): void {
  setTimeout(() => {
    console.error(`${name}: still running ${seconds} s after cleanup; open resources:`, process.getActiveResourcesInfo().join(', '));
    process.exit(process.exitCode ?? fallbackExitCode);
  }, seconds * 1_000).unref();
}
