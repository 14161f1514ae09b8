import { CliError, describeError, ExitCode as CliExitCode } from '../cli/index.js';

/**
 * Exit codes shared by every migrations CLI (documented in docs/delivery-runbook.md):
 * 0 success or nothing to do; 1 the operation failed; 2 usage or input error;
 * 3 refused because of a breaking (or undeclared destructive) migration; 4 refused because the ledger disagrees.
 */
export const ExitCode = {
  ...CliExitCode,
  breaking: 3,
  ledgerConflict: 4,
} as const;

/** The database's ledger does not match what the caller asked for; nothing was changed. */
export class LedgerConflictError extends CliError {
  constructor(message: string) {
    super(message, ExitCode.ledgerConflict);
  }
}

/** A migration's SQL failed; its transaction was rolled back. */
export class MigrationFailedError extends CliError {
  constructor(
    readonly migration: string,
    readonly direction: 'up' | 'down',
    cause: unknown,
  ) {
    super(
      `${direction} migration ${migration} failed and was rolled back: ${describeError(cause)}`,
      ExitCode.failed,
      { cause },
    );
  }
}
