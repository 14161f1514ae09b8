import type { AutocannonRequest } from 'autocannon';
import { seedApiKey, seedFlow, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { BenchTopology } from './bench-topology.js';
import type { LoadPlatforms } from './cohort.js';
import { measureCell } from './measure-cell.js';
import type { CellResult } from './measure-cell.js';
import { signBuildCookie } from '../../edge/resolve/build-cookie.js';

export type ResolutionPath = 'jwt' | 'api-key' | 'webhook' | 'cookie' | 'build-pin';

export interface PathCost {
  /** What the stores hold while measured: `pinned` (rollout 0%), `rollout 50%`, or `overrides present`. */
  state: string;
  path: ResolutionPath;
  cell: CellResult;
}

/** The `ap_canary` cookie the edge sets when it routes a principal to the canary; null when it routes it elsewhere. */
async function canaryCookieFor(t: BenchTopology, platformId: string): Promise<string | null> {
  const token = await signPrincipalJwt(t.jwtSecret, platformId, { expiresInSeconds: 6 * 3600 });
  const res = await fetch(`${t.edge.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return cookie.startsWith('ap_canary=') ? cookie : null;
}

/** Per-path request lists (alternating canary and primary platforms; cookies exist only for canary platforms). */
/** Per-platform request headers added to every path's requests (e.g. a tester override scoped to the platform). */
export type ExtraHeaders = (platformId: string) => Promise<Record<string, string>>;

async function pathRequests(t: BenchTopology, platforms: LoadPlatforms, extra: ExtraHeaders): Promise<Record<ResolutionPath, AutocannonRequest[]>> {
  const lists: Record<ResolutionPath, AutocannonRequest[]> = { jwt: [], 'api-key': [], webhook: [], cookie: [], 'build-pin': [] };
  const interleaved = platforms.canary.flatMap((id, i) => [id, platforms.primary[i]]).filter((id): id is string => id !== undefined);
  for (const id of interleaved) {
    const more = await extra(id);
    const token = await signPrincipalJwt(t.jwtSecret, id, { expiresInSeconds: 6 * 3600 });
    lists.jwt.push({ method: 'GET', path: '/v1/flows', headers: { ...more, authorization: `Bearer ${token}` } });
    lists['api-key'].push({ method: 'GET', path: '/v1/flows', headers: { ...more, authorization: `Bearer ${await seedApiKey(t.pool, id)}` } });
    lists.webhook.push({ method: 'POST', path: `/v1/webhooks/${(await seedFlow(t.pool, id)).flowId}`, headers: { ...more, 'content-type': 'application/json' }, body: '{}' });
  }
  // Cookies exist only for platforms on the canary (pinned, or inside the rollout).
  for (const id of interleaved) {
    const cookie = await canaryCookieFor(t, id);
    if (cookie !== null) lists.cookie.push({ method: 'GET', path: '/index.html', headers: { ...(await extra(id)), cookie } });
  }
  if (lists.cookie.length === 0) throw new Error('no load platform is on the canary, so the cookie path has no cookie');
  // Skew protection: an asset read carrying a document load's pin to the canary (checked against its cutoffs).
  for (const id of interleaved) {
    const pin = await signBuildCookie({ side: 'canary', issuedAtSeconds: Math.floor(Date.now() / 1000), platformId: id }, t.jwtSecret);
    if (pin !== null) lists['build-pin'].push({ method: 'GET', path: '/assets/app.js', headers: { ...(await extra(id)), cookie: `ap_canary_build=${pin}` } });
  }
  return lists;
}

/**
 * Store cost per request at the edge for every resolution path, warm (one warm-up pass per path first). Each path gets
 * exactly `amount` requests, so the counts are exact: nothing is abandoned in flight.
 */
export async function measurePathCosts(
  t: BenchTopology,
  platforms: LoadPlatforms,
  cohort: number,
  connections: number,
  amount: number,
  state = 'pinned (rollout 0%)',
  extra: ExtraHeaders = () => Promise.resolve({}),
): Promise<PathCost[]> {
  const lists = await pathRequests(t, platforms, extra);
  const costs: PathCost[] = [];
  for (const path of ['jwt', 'api-key', 'webhook', 'cookie', 'build-pin'] as const) {
    const requests = lists[path];
    // Warm the resolver caches (flow -> platform, key -> platform) so the measured run is the steady state.
    for (const request of requests) {
      const res = await fetch(`${t.edge.url}${request.path ?? '/'}`, { method: request.method, headers: request.headers, body: request.body ?? null });
      await res.arrayBuffer();
    }
    costs.push({ state, path, cell: await measureCell(t, { target: 'edge', cohort, round: 0, connections, seconds: 0, amount, requests }) });
  }
  return costs;
}
