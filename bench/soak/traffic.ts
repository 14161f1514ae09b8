import { seededRandom } from '../../testkit/seeded-random.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { EdgeHarness } from '../../testkit/edge-harness.js';

export type RequestKind = 'jwt' | 'api-key' | 'webhook';

/** One platform the soak sends traffic for, with every way a request can name it. */
export interface PlatformFixture {
  id: string;
  /** Its explicit operator choice when the load starts: pinned in (true), kept out (false), none (null: it follows the rollout). */
  choice: boolean | null;
  token: string;
  apiKey: string;
  flowId: string;
  /** The address its requests come from (`cf-connecting-ip`): each tenant is its own client, as in production. */
  clientIp: string;
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

/**
 * Client address number `n` in 198.18.0.0/15, the range set aside for benchmarks (RFC 2544). The edge budgets reads
 * of ids its cache does not know per client address (100 a minute): the soak's 200 tenants behind one address would
 * exhaust it while warming their resolver entries, which no real deployment sees.
 */
export function clientAddress(n: number): string {
  return `198.${18 + (Math.floor(n / 65_536) % 2)}.${Math.floor(n / 256) % 256}.${n % 256}`;
}

/**
 * Seeds one platform (its plan, an API key and a flow) and signs a principal JWT for it; `client` numbers the address
 * its requests come from. A platform seeded without
 * `canary` has no explicit choice (it follows the rollout); keeping one out is an explicit choice made through the
 * admin route, as an operator would.
 */
export async function seedFixture(h: EdgeHarness, choice: boolean | null, tokenSeconds: number, client: number): Promise<PlatformFixture> {
  const id = await h.seedPlatform(choice === true ? { canary: true } : {});
  if (choice === false) {
    const res = await h.call('POST', '/v1/admin/platforms/canary', { platformId: id, canary: false, reason: 'soak: kept out' });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`could not keep ${id} out of the canary: ${res.status} ${body}`);
  }
  const [apiKey, flowId, token] = await Promise.all([
    h.seedApiKey(id),
    h.seedFlow(id),
    signPrincipalJwt(h.jwtSecret, id, { expiresInSeconds: tokenSeconds }),
  ]);
  return { id, choice, token, apiKey, flowId, clientIp: clientAddress(client) };
}

/** Deterministic PRNG (mulberry32), so a soak's traffic mix is reproducible. */
export const prng = seededRandom;

/** The request of kind `kind` for a fixture; `n` makes every request distinguishable in logs. */
export function requestFor(fixture: PlatformFixture, kind: RequestKind, n: number): SoakRequest {
  const client = { 'cf-connecting-ip': fixture.clientIp };
  if (kind === 'webhook') {
    const headers = { ...client, 'content-type': 'application/json' };
    return { platformId: fixture.id, kind, method: 'POST', path: `/v1/webhooks/${fixture.flowId}`, headers, body: `{"n":${n}}` };
  }
  const secret = kind === 'jwt' ? fixture.token : fixture.apiKey;
  return { platformId: fixture.id, kind, method: 'GET', path: `/v1/flows?n=${n}`, headers: { ...client, authorization: `Bearer ${secret}` }, body: null };
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
