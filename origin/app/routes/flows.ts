import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { bearerToken, verifyPrincipalJwt } from '../../../core/auth/principal-jwt.js';
import { ApiError, errorResponse } from '../../../core/http/api-error.js';
import { FlowDefinitionSchema, describeDefinitionError } from '../../engine/flow-definition.js';
import type { FlowDefinition } from '../../engine/flow-definition.js';

/** Largest flow definition request accepted (100 steps of 10 KB templates fit). */
export const FLOW_DEFINITION_MAX_BYTES = 1024 * 1024;

export interface FlowRoutesDeps {
  jwtSecret: string;
  /** Stores the definition of a flow of `platformId`; false when no such flow belongs to that platform. */
  saveDefinition(flowId: string, platformId: string, definition: FlowDefinition | null): Promise<boolean>;
}

const FlowIdSchema = z.string().min(1).max(200).regex(/^[\w.-]+$/);

/**
 * `PUT /v1/flows/:flowId` `{"definition": {...} | null}`: where a tenant's flow definition enters the system, so it is
 * validated here (prototype paths, sizes, step shapes) before any worker ever sees it.
 */
export function flowRoutes(deps: FlowRoutesDeps): Hono {
  const routes = new Hono();
  routes.put(
    '/:flowId',
    bodyLimit({
      maxSize: FLOW_DEFINITION_MAX_BYTES,
      onError: (c) => errorResponse(c, 413, 'payload_too_large', `A flow definition may not exceed ${FLOW_DEFINITION_MAX_BYTES} bytes.`),
    }),
    async (c) => {
      const token = bearerToken(c.req.header('authorization'));
      const principal = token === null ? null : await verifyPrincipalJwt(token, deps.jwtSecret, Math.floor(Date.now() / 1000));
      if (principal === null) throw new ApiError(401, 'unauthorized', 'A valid principal JWT is required.');
      const flowId = FlowIdSchema.safeParse(c.req.param('flowId'));
      if (!flowId.success) throw new ApiError(400, 'invalid_flow_id', 'The flow id is malformed.');
      let body: unknown;
      try {
        body = await c.req.json();
      } catch {
        throw new ApiError(400, 'invalid_json', 'The body must be JSON: {"definition": {"steps": [...]}}.');
      }
      const parsed = z.strictObject({ definition: FlowDefinitionSchema.nullable() }).safeParse(body);
      if (!parsed.success) throw new ApiError(400, 'invalid_definition', `Invalid flow definition: ${describeDefinitionError(parsed.error)}`);
      const saved = await deps.saveDefinition(flowId.data, principal.platformId, parsed.data.definition);
      // Same answer for "missing" and "another platform's", so flow ids cannot be probed across platforms.
      if (!saved) throw new ApiError(404, 'flow_not_found', `Flow ${flowId.data} does not exist.`);
      return c.json({ flowId: flowId.data, definition: parsed.data.definition });
    },
  );
  return routes;
}
