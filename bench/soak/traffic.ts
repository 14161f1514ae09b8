import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

export type RequestKind = 'jwt' | 'api-key' | 'webhook';

/** One platform the soak sends traffic for, with every way a request can name it. */
export interface PlatformFixture {
  id: string;
  canary: boolean;
  token: string;
  apiKey: string;
  flowId: string;
}

/** A request to send, and what names its platform. */
export interface SoakRequest {
  platformId: string;
  kind: RequestKind;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body: string | null;
}

/** Seeds one platform (its plan, an API key and a flow) and signs a principal JWT for it. */
export async function seedFixture(h: EdgeHarness, canary: boolean, tokenSeconds: number): Promise<PlatformFixture> {
  const id = await h.seedPlatform({ canary });
  const [apiKey, flowId, token] = await Promise.all([
    h.seedApiKey(id),
    h.seedFlow(id),
    signPrincipalJwt(h.jwtSecret, id, { expiresInSeconds: tokenSeconds }),
  ]);
  return { id, canary, token, apiKey, flowId };
}

/** Deterministic PRNG (mulberry32), so a soak's traffic mix is reproducible. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The request of kind `kind` for a fixture; `n` makes every request distinguishable in logs. */
export function requestFor(fixture: PlatformFixture, kind: RequestKind, n: number): SoakRequest {
  if (kind === 'webhook') {
    return { platformId: fixture.id, kind, method: 'POST', path: `/v1/webhooks/${fixture.flowId}`, headers: { 'content-type': 'application/json' }, body: `{"n":${n}}` };
  }
  const secret = kind === 'jwt' ? fixture.token : fixture.apiKey;
  return { platformId: fixture.id, kind, method: 'GET', path: `/v1/flows?n=${n}`, headers: { authorization: `Bearer ${secret}` }, body: null };
}

/**
 * Picks the next request: `flipShare` of them name the flipping platform, the rest a random static platform;
 * 60% JWT, 20% API key, 20% webhook (a POST, which the edge must not replay on the primary).
 */
export function trafficMix(statics: readonly PlatformFixture[], flipping: PlatformFixture, flipShare: number, seed = 42): (n: number) => SoakRequest {
  const random = prng(seed);
  return (n) => {
    const fixture = random() < flipShare ? flipping : statics[Math.floor(random() * statics.length)] ?? flipping;
    const r = random();
    const kind: RequestKind = r < 0.6 ? 'jwt' : r < 0.8 ? 'api-key' : 'webhook';
    return requestFor(fixture, kind, n);
  };
}
