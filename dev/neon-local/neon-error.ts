import pg from 'pg';

/** The JSON error body of Neon's SQL-over-HTTP endpoint; the driver copies these keys onto `NeonDbError`. */
export interface NeonErrorBody {
  message: string;
  code: string;
  detail: string | null;
  hint: string | null;
  position: string | null;
  internalPosition: string | null;
  internalQuery: string | null;
  severity: string | null;
  where: string | null;
  table: string | null;
  column: string | null;
  schema: string | null;
  dataType: string | null;
  constraint: string | null;
  file: string | null;
  line: string | null;
  routine: string | null;
}

/** A failure answered the way Neon's proxy answers it: an HTTP status plus Neon's error body. */
export class NeonHttpError extends Error {
  override readonly name = 'NeonHttpError';

  constructor(
    readonly status: number,
    message: string,
    readonly database?: pg.DatabaseError,
  ) {
    super(message);
  }

  /** Neon always sends every key: `code` is "" and the rest null when Postgres did not report them. */
  body(): NeonErrorBody {
    const db = this.database;
    return {
      message: this.message,
      code: db?.code ?? '',
      detail: db?.detail ?? null,
      hint: db?.hint ?? null,
      position: db?.position ?? null,
      internalPosition: db?.internalPosition ?? null,
      internalQuery: db?.internalQuery ?? null,
      severity: db?.severity ?? null,
      where: db?.where ?? null,
      table: db?.table ?? null,
      column: db?.column ?? null,
      schema: db?.schema ?? null,
      dataType: db?.dataType ?? null,
      constraint: db?.constraint ?? null,
      file: db?.file ?? null,
      line: db?.line ?? null,
      routine: db?.routine ?? null,
    };
  }
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A statement (or BEGIN/COMMIT) failed. Neon answers 400 for every error of the customer's SQL — with Postgres'
 * fields when Postgres reported it, with just a message when the connection broke underneath.
 */
export function queryFailed(error: unknown): NeonHttpError {
  if (error instanceof NeonHttpError) return error;
  if (error instanceof pg.DatabaseError) return new NeonHttpError(400, error.message, error);
  return new NeonHttpError(400, messageOf(error));
}

/**
 * Connecting to Postgres failed. Neon classes this as a compute (or Postgres) error, not a user error, so it answers
 * 500: the driver then rejects with `Server error (HTTP status 500): <body>` instead of waiting.
 */
export function connectFailed(error: unknown): NeonHttpError {
  if (error instanceof NeonHttpError) return error;
  if (error instanceof pg.DatabaseError) return new NeonHttpError(500, error.message, error);
  return new NeonHttpError(500, `error connecting to server: ${messageOf(error)}`);
}
