import { startLocalCloud } from '../dev/local-cloud/start-local-cloud.js';
import type { EdgeBindings } from '../edge/config.js';

/** The edge Worker (workerd) in front of real origin apps, with local Upstash/Neon endpoints on the same stores. */
export interface OriginEdge {
  url: string;
  /** `POST /v1/admin/platforms/canary` through the edge. */
  flip(platformId: string, canary: boolean): Promise<Response>;
  /** Any admin route through the edge, with the admin key. */
  call(method: string, path: string, body?: unknown): Promise<Response>;
  close(): Promise<void>;
}

export interface OriginEdgeOptions {
  redisUrl: string;
  postgresUrl: string;
  primaryUrl: string;
  canaryUrl: string;
  apiKey: string;
  jwtSecret: string;
  workerSecret: string;
  /** More edge bindings (e.g. CANARY_SKEW_MAX_AGE_SECONDS), by their Worker names. */
  bindings?: EdgeBindings;
}

/** The local cloud's edge routing to apps the test started itself. */
export async function startOriginEdge(options: OriginEdgeOptions): Promise<OriginEdge> {
  const cloud = await startLocalCloud({
    stores: { redisUrl: options.redisUrl, postgresUrl: options.postgresUrl },
    secrets: { apiKey: options.apiKey, jwtSecret: options.jwtSecret, workerSecret: options.workerSecret },
    origins: { urls: { primary: options.primaryUrl, canary: options.canaryUrl } },
    edge: { storeTimeoutMs: 5_000, ...(options.bindings === undefined ? {} : { bindings: options.bindings }) },
  });
  const url = cloud.edge?.url;
  if (url === undefined) throw new Error('the local cloud started without its edge');
  return {
    url,
    flip: (platformId, canary) =>
      fetch(`${url}/v1/admin/platforms/canary`, {
        method: 'POST',
        headers: { 'api-key': options.apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ platformId, canary }),
      }),
    call: (method, path, body) =>
      fetch(`${url}${path}`, {
        method,
        headers: { 'api-key': options.apiKey, 'content-type': 'application/json' },
        body: body === undefined ? null : JSON.stringify(body),
      }),
    close: () => cloud.close(),
  };
}
