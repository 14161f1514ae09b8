/**
 * The exit codes every CLI shares: 0 success (or nothing to do), 1 the operation failed, 2 usage or input error.
 * A tool documents its own codes from 3 up (see docs/delivery-runbook.md) and spreads these into its own table.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
} as const;
