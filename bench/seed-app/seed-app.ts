import { createHash } from 'node:crypto';
import replyFrom from '@fastify/reply-from';
import Fastify from 'fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { verifyPrincipal } from './principal.js';
import type { Principal } from './principal.js';
import type { SeedCohortStore } from './seed-cohort-store.js';

export interface SeedAppOptions {
  canaryUrl: string;
  jwtSecret: string;
  store: SeedCohortStore;
}

/** Requests the seed app answered itself vs proxied to the canary since the last reset. */
export interface SeedAppCounts {
  received: number;
  answered: number;
  proxied: number;
  proxyErrors: number;
}

const PRINCIPAL_TYPES = new Set(['USER', 'SERVICE', 'ENGINE']);
const EMPTY_SHA256 = createHash('sha256').digest('hex');

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

/** The seed's `awaitProxy`: stream the request to the canary and resolve once the reply has finished. */
function awaitProxy(request: FastifyRequest, reply: FastifyReply, counts: SeedAppCounts): Promise<void> {
  return new Promise<void>((resolve) => {
    reply.raw.once('finish', resolve);
    void reply.from(request.url, {
      onError: (errorReply, { error }) => {
        counts.proxyErrors++;
        void errorReply.send(error);
      },
    });
  });
}

/**
 * The seed document's design: the primary app itself, with an authentication hook that sets `request.principal` and
 * the `canaryRoutingMiddleware` preHandler (cohort from Redis on every request, `includes`, proxy with
 * @fastify/reply-from); everything else is answered by the app (an echo like the primary origin's).
 */
export async function buildSeedApp(options: SeedAppOptions): Promise<{ app: FastifyInstance; counts: SeedAppCounts }> {
  const counts: SeedAppCounts = { received: 0, answered: 0, proxied: 0, proxyErrors: 0 };
  // Logging off: it would only slow the baseline down, and the comparison should not flatter the edge.
  const app = Fastify({ logger: false });
  await app.register(replyFrom, { base: options.canaryUrl });
  app.decorateRequest('principal', null);

  // The seed's canaryRoutingMiddleware, step for step.
  const canaryRouting = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (request.headers.upgrade === 'websocket') return;
    let canaryPlatformIds: string[];
    try {
      canaryPlatformIds = await options.store.getCanaryPlatformIds();
    } catch {
      return; // The seed logs and falls through to the primary.
    }
    const principal = request.principal;
    const platformId = principal !== null && PRINCIPAL_TYPES.has(principal.type) ? principal.platform.id : null;
    if (platformId === null || !canaryPlatformIds.includes(platformId)) return;
    counts.proxied++;
    await awaitProxy(request, reply, counts);
  };

  app.addHook('onRequest', async (request) => {
    counts.received++;
    request.principal = verifyPrincipal(request.headers.authorization, options.jwtSecret, Math.floor(Date.now() / 1000));
  });

  app.addHook('preHandler', canaryRouting);

  app.all('/*', async (request, reply) => {
    counts.answered++;
    void reply.header('x-origin', 'primary').header('content-type', 'application/json');
    return JSON.stringify({
      origin: 'primary',
      method: request.method,
      url: request.url,
      headers: request.headers,
      bodySha256: EMPTY_SHA256,
      bodyBytes: 0,
    });
  });
  return { app, counts };
}
