import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod/mini';
import { constantTimeEqual } from '../../../core/crypto/web-crypto.js';
import { ApiError } from '../../../core/http/api-error.js';
import { StoreError } from '../../../core/membership/index.js';
import type { AppEnv } from '../../types.js';

/** Admin request bodies are tiny; anything larger is refused before it is read. */
export const ADMIN_BODY_LIMIT_BYTES = 4 * 1024;

/** An actor name for the audit log: what `x-canary-actor` may say (printable, no control characters). */
const ACTOR = /^[\p{L}\p{N}\p{P}\p{S} ]{1,100}$/u;

/**
 * `api-key` (constant time) for every admin route, and the actor the audit log records: `x-canary-actor` when given
 * (validated), else `api-key`. Admin answers come from the edge itself.
 */
export function requireApiKey(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    c.get('log').origin = 'edge';
    const given = c.req.header('api-key');
    if (given === undefined || given === '') throw new ApiError(401, 'unauthorized', 'Missing api-key header.');
    if (!(await constantTimeEqual(given, c.get('services').config.apiKey))) throw new ApiError(401, 'unauthorized', 'Invalid api-key.');
    const actor = c.req.header('x-canary-actor');
    if (actor !== undefined && !ACTOR.test(actor)) {
      throw new ApiError(400, 'invalid_actor', 'x-canary-actor must be 1 to 100 printable characters (it names you in the audit log).');
    }
    c.set('actor', actor ?? 'api-key');
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

/** `reason`: optional, at most 500 characters (contract). */
export const reasonField = () => z.optional(z.nullable(z.string().check(z.maxLength(500))));

/**
 * The JSON body validated by `schema`: 400 `invalid_json` or `invalid_body` naming what is expected. An empty body
 * reads as `{}` when `emptyIsObject` (routes whose every field is optional).
 */
export async function readBody<T>(c: Context<AppEnv>, schema: z.ZodMiniType<T>, expected: string, emptyIsObject = false): Promise<T> {
  const text = await c.req.text();
  let json: unknown;
  if (text.trim() === '' && emptyIsObject) json = {};
  else {
    try {
      json = JSON.parse(text) as unknown;
    } catch {
      throw new ApiError(400, 'invalid_json', `Request body must be JSON: ${expected}.`);
    }
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
    throw new ApiError(400, 'invalid_body', `Expected ${expected}. ${detail}`);
  }
  return parsed.data;
}

/**
 * Runs a store call of an admin route. Only an unavailable store is a 503 (cause logged, credentials removed, the
 * message saying whether the change may have been applied); anything else is a bug and surfaces as 500 via onError.
 */
export async function withStore<T>(c: Context<AppEnv>, stage: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof StoreError)) throw error;
    c.get('services').reportStoreError(stage, error);
    throw new ApiError(
      503,
      'store_unavailable',
      error.outcome === 'unknown'
        ? 'The database did not answer in time: the change may or may not have been applied (the routing cache was reset to follow the database either way). Retry the same request; it is idempotent.'
        : 'The database is unavailable; the change was not applied. Retry the same request.',
    );
  }
}

/** 503 when the change was committed but the routing cache could not be invalidated (Redis down). */
export function requireInvalidated(invalidated: boolean, what: string): void {
  if (invalidated) return;
  throw new ApiError(
    503,
    'cache_invalidation_failed',
    `The database now has ${what}, but the routing cache could not be invalidated, so edges may keep the old routing until the cache expires (60 s). Retry the same request.`,
  );
}

/** 405 for the methods a path does not serve. */
export function methodNotAllowed(allowed: string, path: string): never {
  throw new ApiError(405, 'method_not_allowed', `Use ${allowed} on ${path}.`);
}
