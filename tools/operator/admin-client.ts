import { CliError } from '../cli/index.js';

/** Where the admin API is and the key that opens it (`CANARY_EDGE_URL`, `AP_API_KEY`). */
export interface AdminTarget {
  baseUrl: string;
  apiKey: string;
  /** Names the operator in the audit log (`x-canary-actor`), e.g. from CANARY_ACTOR or the login name. */
  actor: string | null;
}

/** The edge `npm start` runs, when CANARY_EDGE_URL is unset. */
export const DEFAULT_EDGE_URL = 'http://127.0.0.1:8787';

/** Reads the target from the environment; a missing key is an error naming the fix. */
export function adminTargetFromEnv(env: NodeJS.ProcessEnv = process.env): AdminTarget {
  const apiKey = env.AP_API_KEY?.trim() ?? '';
  if (apiKey === '') throw new CliError('AP_API_KEY is not set: export the edge\'s admin key (npm start prints it), e.g. export AP_API_KEY=...');
  const raw = env.CANARY_EDGE_URL?.trim() || DEFAULT_EDGE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new CliError(`CANARY_EDGE_URL is not a URL: ${raw} (e.g. https://edge.example.com)`);
  }
  const actor = env.CANARY_ACTOR?.trim() || env.USER?.trim() || null;
  return { baseUrl: url.toString().replace(/\/+$/, ''), apiKey, actor };
}

/** The admin API refused the request: its JSON error envelope's code and message. */
export class RefusedError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(`${message} (${status} ${code})`);
  }
}

/** Calls an admin route; resolves with its JSON body, throws RefusedError or a CliError naming the fix. */
export async function callAdmin<T>(target: AdminTarget, method: string, path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${target.baseUrl}${path}`, {
      method,
      headers: {
        'api-key': target.apiKey,
        'content-type': 'application/json',
        ...(target.actor === null ? {} : { 'x-canary-actor': target.actor.slice(0, 100) }),
      },
      body: body === undefined ? null : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    const why = error instanceof Error && error.name === 'TimeoutError' ? 'it did not answer within 30 s' : 'nothing answered';
    throw new CliError(`cannot reach ${target.baseUrl} (${why}) — is the edge running? (npm start), or set CANARY_EDGE_URL`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new CliError(`${target.baseUrl}${path} answered ${response.status} with something that is not JSON — is CANARY_EDGE_URL the edge?`);
  }
  if (!response.ok) {
    const error = (json as { error?: { code?: unknown; message?: unknown } }).error;
    throw new RefusedError(response.status, String(error?.code ?? 'error'), String(error?.message ?? `HTTP ${response.status}`));
  }
  return json as T;
}
