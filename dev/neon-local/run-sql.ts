import type pg from 'pg';
import type { PgTarget } from './connection-string.js';
import { NeonHttpError, connectFailed, queryFailed } from './neon-error.js';
import type { QueryData } from './payload.js';
import { PgTextConversionError, pgTextToJson } from './pg-text-json.js';
import { backendPid, cancelBackend } from './pools.js';

/** One column of a result, exactly the keys Neon sends (the driver reads `name` and `dataTypeID`). */
export interface NeonField {
  name: string;
  dataTypeID: number;
  tableID: number;
  columnID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: 'text';
}

/** One statement's result as Neon sends it. */
export interface NeonQueryResult {
  rowAsArray: boolean;
  fields: NeonField[];
  rows: unknown[];
  command: string;
  rowCount: number | null;
}

/** What the request headers ask for (`Neon-Raw-Text-Output`, `Neon-Array-Mode`, `Neon-Batch-*`). */
export interface SqlOptions {
  rawOutput: boolean;
  arrayMode: boolean;
  /** SQL spelling, e.g. `REPEATABLE READ`. */
  isolationLevel: string | undefined;
  readOnly: boolean;
  deferrable: boolean;
}

/** Everything a run needs besides the statements. */
export interface RunContext {
  pool: pg.Pool;
  target: PgTarget;
  options: SqlOptions;
  /** Counts every customer statement sent to Postgres (not BEGIN/COMMIT/ROLLBACK). */
  countStatement(): void;
  /** Aborts when the HTTP client goes away: the running statement is cancelled. */
  signal: AbortSignal;
}

type TextRow = (string | null)[];

/** Leave every value as Postgres text: the driver parses it client-side, as it does against Neon. */
const TEXT_TYPES: pg.CustomTypesConfig = {
  getTypeParser: (() => (value: string) => value) as pg.CustomTypesConfig['getTypeParser'],
};

function formatRow(row: TextRow, fields: pg.FieldDef[], arrayMode: boolean, rawOutput: boolean): unknown {
  const values = row.map((value, index) => {
    if (value === null || rawOutput) return value;
    return pgTextToJson(value, fields[index]?.dataTypeID ?? 0);
  });
  if (arrayMode) return values;
  const object: Record<string, unknown> = {};
  fields.forEach((field, index) => {
    object[field.name] = values[index] ?? null;
  });
  return object;
}

function toNeonResult(result: pg.QueryArrayResult<TextRow>, statement: QueryData, options: SqlOptions): NeonQueryResult {
  const arrayMode = statement.arrayMode ?? options.arrayMode;
  let rows: unknown[];
  try {
    rows = result.rows.map((row) => formatRow(row, result.fields, arrayMode, options.rawOutput));
  } catch (error) {
    if (error instanceof PgTextConversionError) throw new NeonHttpError(500, 'could not parse postgres response');
    throw error;
  }
  return {
    rowAsArray: arrayMode,
    fields: result.fields.map((field) => ({
      name: field.name,
      dataTypeID: field.dataTypeID,
      tableID: field.tableID,
      columnID: field.columnID,
      dataTypeSize: field.dataTypeSize,
      dataTypeModifier: field.dataTypeModifier,
      format: 'text',
    })),
    rows,
    // An empty query has no command tag; Neon then sends "" and null.
    command: result.command ?? '',
    rowCount: result.rowCount ?? null,
  };
}

async function runStatement(client: pg.PoolClient, statement: QueryData, context: RunContext): Promise<NeonQueryResult> {
  if (context.signal.aborted) throw new NeonHttpError(400, 'Query cancelled, connection was terminated');
  context.countStatement();
  // Extended protocol, like Neon: one statement per query, so `SELECT 1; SELECT 2` is rejected as it is there.
  const config: pg.QueryArrayConfig<TextRow> & { queryMode: 'extended' } = {
    text: statement.query,
    values: statement.params,
    rowMode: 'array',
    types: TEXT_TYPES,
    queryMode: 'extended',
  };
  const pid = backendPid(client);
  const cancel = (): void => {
    if (pid !== undefined) void cancelBackend(context.target, pid);
  };
  context.signal.addEventListener('abort', cancel, { once: true });
  try {
    return toNeonResult(await client.query<TextRow>(config), statement, context.options);
  } finally {
    context.signal.removeEventListener('abort', cancel);
  }
}

async function connect(pool: pg.Pool): Promise<pg.PoolClient> {
  try {
    return await pool.connect();
  } catch (error) {
    throw connectFailed(error);
  }
}

/** Runs one statement in autocommit mode; a connection left inside a transaction is discarded, as Neon does. */
export async function runSingle(statement: QueryData, context: RunContext): Promise<NeonQueryResult> {
  const client = await connect(context.pool);
  let reusable = false;
  try {
    const result = await runStatement(client, statement, context);
    reusable = client.getTransactionStatus() === 'I';
    return result;
  } catch (error) {
    throw queryFailed(error);
  } finally {
    client.release(!reusable);
  }
}

function beginStatement(options: SqlOptions): string {
  const modes: string[] = [];
  if (options.isolationLevel !== undefined) modes.push(`ISOLATION LEVEL ${options.isolationLevel}`);
  if (options.readOnly) modes.push('READ ONLY');
  if (options.deferrable) modes.push('DEFERRABLE');
  return modes.length === 0 ? 'BEGIN' : `BEGIN ${modes.join(', ')}`;
}

/** Runs a batch in one transaction with the requested modes; any failure rolls the whole batch back. */
export async function runBatch(statements: QueryData[], context: RunContext): Promise<{ results: NeonQueryResult[] }> {
  const client = await connect(context.pool);
  try {
    await client.query(beginStatement(context.options));
  } catch (error) {
    client.release(true);
    throw queryFailed(error);
  }
  const results: NeonQueryResult[] = [];
  try {
    for (const statement of statements) results.push(await runStatement(client, statement, context));
  } catch (error) {
    const failure = queryFailed(error);
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch {
      client.release(true);
    }
    throw failure;
  }
  try {
    await client.query('COMMIT');
  } catch (error) {
    client.release(true);
    throw queryFailed(error);
  }
  client.release(client.getTransactionStatus() !== 'I');
  return { results };
}
