import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { ApiError } from '../../../core/http/api-error.js';
import { actorInput, validateInput } from '../../../core/operator/inputs.js';
import type { Outcome } from '../../../core/operator/outcome.js';
import { ADMIN_AUTH_RETRY_AFTER_SECONDS, checkAdminKey } from '../../auth/admin-key.js';
import type { AppEnv } from '../../types.js';

/** Admin request bodies are tiny; anything larger is refused before it is read. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024;

/** The actor the audit log records for an API caller: `api:<x-canary-actor>`, or `api-key` without one. */
export function apiActor(named: string | undefined): string {
  return named === undefined ? 'api-key' : `api:${named}`;
}

/**
 * `api-key` (constant time, failures budgeted per client IP) for every admin route, and the actor the audit log
 * records. A caller's `x-canary-actor` is recorded as `api:<name>`, so no caller can pose as a built-in actor (`guard`,
 * `judge`, `plan`, `admin page`). Admin answers come from the edge itself.
 */
export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.get('log').origin = 'edge';
    switch (await checkAdminKey(c, c.req.header('api-key'))) {
      case 'missing':
        throw new ApiError(401, 'unauthorized', 'Missing api-key header.');
      case 'wrong':
        throw new ApiError(401, 'unauthorized', 'Invalid api-key.');
      case 'blocked':
        throw new ApiError(429, 'too_many_attempts', `Too many failed admin authentications from this client. Retry after ${ADMIN_AUTH_RETRY_AFTER_SECONDS} s.`, {
          'retry-after': String(ADMIN_AUTH_RETRY_AFTER_SECONDS),
        });
      case 'ok':
        break;
    }
    const named = c.req.header('x-canary-actor');
    if (named !== undefined) {
      const valid = validateInput(actorInput(), named, 'x-canary-actor');
      if (!valid.ok) throw new ApiError(400, 'invalid_actor', `${valid.message} (it names you in the audit log).`);
    }
    c.set('actor', apiActor(named));
    await next();
  };
}

/** Refuses a body over the admin limit with 413 before reading it. */
export function adminBodyLimit(): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: ADMIN_BODY_LIMIT_BYTES,
    onError: () => {
      throw new ApiError(413, 'payload_too_large', `Request body exceeds ${ADMIN_BODY_LIMIT_BYTES} bytes.`);
    },
  });
}

/**
 * The request body as JSON (its rules are the operator command's to check): 400 `invalid_json` naming what is
 * expected. An empty body reads as `{}` when `emptyIsObject` (routes whose every field is optional).
 */
export async function readJson(c: Context<AppEnv>, expected: string, emptyIsObject = false): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '' && emptyIsObject) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(400, 'invalid_json', `Request body must be JSON: ${expected}.`);
  }
}

/** How the API names an invalid input of a route (the body by default) and what it expected. */
export interface RenderOptions {
  expected?: string;
  invalidCode?: 'invalid_body' | 'invalid_platform_id' | 'invalid_query';
}

/**
 * The value of an `ok` outcome; any other outcome becomes the API's JSON error: 400 invalid input (naming the rule
 * broken), 404 `platform_not_found`, 503 `store_unavailable` (saying whether the change may have been applied), 503
 * `cache_invalidation_failed`.
 */
export function valueOf<T>(outcome: Outcome<T>, options: RenderOptions = {}): T {
  switch (outcome.kind) {
    case 'ok':
      return outcome.value;
    case 'invalid':
      throw new ApiError(400, options.invalidCode ?? 'invalid_body', options.expected === undefined ? outcome.message : `Expected ${options.expected}. ${outcome.message}`);
    case 'not_found':
      throw new ApiError(404, outcome.code ?? 'platform_not_found', outcome.message);
    case 'conflict':
      throw new ApiError(409, outcome.code, outcome.message);
    case 'store_unavailable':
      throw new ApiError(503, 'store_unavailable', outcome.message);
    case 'cache_not_invalidated':
      throw new ApiError(503, 'cache_invalidation_failed', outcome.message);
  }
}

/** 405 for the methods a path does not serve. */
export function methodNotAllowed(allowed: string, path: string): never {
  throw new ApiError(405, 'method_not_allowed', `Use ${allowed} on ${path}.`);
}
