import { NeonHttpError, messageOf } from './neon-error.js';

/** One statement of a request: SQL text, Postgres text parameters, and an optional per-statement array mode. */
export interface QueryData {
  query: string;
  params: (string | null)[];
  arrayMode: boolean | undefined;
}

/** A request body: `{query, params?, arrayMode?}` or `{queries: [...]}` (a batch run as one transaction). */
export type Payload = { kind: 'single'; statement: QueryData } | { kind: 'batch'; statements: QueryData[] };

function invalid(reason: string): NeonHttpError {
  return new NeonHttpError(400, `could not parse the HTTP request body: ${reason}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON number, boolean or object as Postgres text, the way Neon's serde_json prints them. */
function jsonText(value: unknown): string {
  return JSON.stringify(value);
}

/** A JSON array as a Postgres array literal; strings inside are JSON-quoted, as Neon does. */
function pgArrayLiteral(value: unknown): string | null {
  if (value === null) return null;
  if (Array.isArray(value)) return `{${value.map((item) => pgArrayLiteral(item) ?? 'NULL').join(',')}}`;
  if (isRecord(value)) return jsonText(jsonText(value));
  return jsonText(value);
}

/**
 * A parameter as Postgres text. The driver already sends strings and nulls; other JSON values are converted as Neon's
 * proxy converts them, so hand-written requests behave the same too.
 */
function toPgText(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return pgArrayLiteral(value);
  return jsonText(value);
}

function parseQueryData(value: unknown, where: string): QueryData {
  if (!isRecord(value)) throw invalid(`${where} must be an object`);
  const { query, params, arrayMode } = value;
  if (typeof query !== 'string') throw invalid(`${where}.query must be a string`);
  if (params !== undefined && !Array.isArray(params)) throw invalid(`${where}.params must be an array`);
  if (arrayMode !== undefined && arrayMode !== null && typeof arrayMode !== 'boolean') {
    throw invalid(`${where}.arrayMode must be a boolean`);
  }
  return { query, params: (params ?? []).map(toPgText), arrayMode: arrayMode ?? undefined };
}

/** Parses a request body as Neon's proxy does; anything else is a 400 with Neon's "could not parse" message. */
export function parsePayload(body: string): Payload {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw invalid(messageOf(error));
  }
  if (!isRecord(json)) throw invalid('expected a JSON object with "query" or "queries"');
  if ('query' in json) return { kind: 'single', statement: parseQueryData(json, 'body') };
  if (Array.isArray(json.queries)) {
    return { kind: 'batch', statements: json.queries.map((item, index) => parseQueryData(item, `queries[${index}]`)) };
  }
  throw invalid('expected a JSON object with "query" or "queries"');
}
