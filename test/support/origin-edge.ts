import { randomBytes } from 'node:crypto';
import { startEdge } from '../../dev/edge-runner.js';
import type { EdgeRunner } from '../../dev/edge-runner.js';
import { startNeonLocal } from '../../dev/neon-local/server.js';
import type { NeonLocal } from '../../dev/neon-local/server.js';
import { startUpstashLocal } from '../../dev/upstash-local/server.js';
import type { UpstashLocal } from '../../dev/upstash-local/server.js';

/** The edge Worker (workerd) in front of real origin apps, with local Upstash/Neon endpoints on the same stores. */
export interface OriginEdge {
  url: string;
  /** `POST /v1/admin/platforms/canary` through the edge. */
  flip(platformId: string, canary: boolean): Promise<Response>;
  close(): Promise<void>;
}

export interface OriginEdgeOptions {
  redisUrl: string;
  postgresUrl: string;
  primaryUrl: string;
  canaryUrl: string;
  apiKey: string;
  jwtSecret: string;
}

/** Starts Upstash-local (on the test's Redis DB), Neon-local and the edge routing to the given apps. */
export async function startOriginEdge(options: OriginEdgeOptions): Promise<OriginEdge> {
  const upstashToken = randomBytes(16).toString('hex');
  let upstash: UpstashLocal | undefined;
  let neon: NeonLocal | undefined;
  let edge: EdgeRunner | undefined;
  try {
    upstash = await startUpstashLocal({ redisUrl: options.redisUrl, token: upstashToken });
    neon = await startNeonLocal();
    edge = await startEdge({
      primaryUrl: options.primaryUrl,
      canaryUrl: options.canaryUrl,
      apiKey: options.apiKey,
      jwtSecret: options.jwtSecret,
      upstashUrl: upstash.url,
      upstashToken,
      databaseUrl: options.postgresUrl,
      neonHttpEndpoint: neon.fetchEndpoint,
      storeTimeoutMs: 5_000,
    });
  } catch (error) {
    await Promise.allSettled([edge?.close(), neon?.close(), upstash?.close()]);
    throw error;
  }
  const running = { edge, neon, upstash };
  return {
    url: running.edge.url,
    flip: (platformId, canary) =>
      fetch(`${running.edge.url}/v1/admin/platforms/canary`, {
        method: 'POST',
        headers: { 'api-key': options.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ platformId, canary }),
      }),
    async close() {
      await running.edge.close();
      await Promise.allSettled([running.neon.close(), running.upstash.close()]);
    },
  };
}
