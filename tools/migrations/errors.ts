/**
 * Exit codes shared by every migrations CLI (documented in docs/delivery-runbook.md):
 * 0 success or nothing to do; 1 the operation failed; 2 usage or input error;
 * 3 refused because of a breaking (or undeclared destructive) migration; 4 refused because the ledger disagrees.
 */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  breaking: 3,
  ledgerConflict: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error a CLI reports as one message (no stack) with a documented exit code. */
export class MigrationToolError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A migration file or manifest that cannot be parsed, or a bad command line. */
export class UsageError extends MigrationToolError {
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

/** The database's ledger does not match what the caller asked for; nothing was changed. */
export class LedgerConflictError extends MigrationToolError {
  constructor(message: string) {
    super(message, ExitCode.ledgerConflict);
  }
}

/** A migration's SQL failed; its transaction was rolled back. */
export class MigrationFailedError extends MigrationToolError {
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

/** One line describing any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
