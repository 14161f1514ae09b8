import type { AutocannonRequest } from 'autocannon';
import { seedApiKey, seedFlow, signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { BenchTopology } from './bench-topology.js';
import type { LoadPlatforms } from './cohort.js';
import { measureCell } from './measure-cell.js';
import type { CellResult } from './measure-cell.js';

export type ResolutionPath = 'jwt' | 'api-key' | 'webhook' | 'cookie';

export interface PathCost {
  path: ResolutionPath;
  cell: CellResult;
}

/** The `ap_canary` cookie the edge sets when it routes a principal to the canary. */
async function canaryCookieFor(t: BenchTopology, platformId: string): Promise<string> {
  const token = await signPrincipalJwt(t.jwtSecret, platformId, { expiresInSeconds: 6 * 3600 });
  const res = await fetch(`${t.edge.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  if (!cookie.startsWith('ap_canary=')) throw new Error(`edge set no canary cookie for ${platformId}`);
  return cookie;
}

/** Per-path request lists (alternating canary and primary platforms; cookies exist only for canary platforms). */
async function pathRequests(t: BenchTopology, platforms: LoadPlatforms): Promise<Record<ResolutionPath, AutocannonRequest[]>> {
  const lists: Record<ResolutionPath, AutocannonRequest[]> = { jwt: [], 'api-key': [], webhook: [], cookie: [] };
  const interleaved = platforms.canary.flatMap((id, i) => [id, platforms.primary[i]]).filter((id): id is string => id !== undefined);
  for (const id of interleaved) {
    const token = await signPrincipalJwt(t.jwtSecret, id, { expiresInSeconds: 6 * 3600 });
    lists.jwt.push({ method: 'GET', path: '/v1/flows', headers: { authorization: `Bearer ${token}` } });
    lists['api-key'].push({ method: 'GET', path: '/v1/flows', headers: { authorization: `Bearer ${await seedApiKey(t.pool, id)}` } });
    lists.webhook.push({ method: 'POST', path: `/v1/webhooks/${(await seedFlow(t.pool, id)).flowId}`, headers: { 'content-type': 'application/json' }, body: '{}' });
  }
  for (const id of platforms.canary) lists.cookie.push({ method: 'GET', path: '/index.html', headers: { cookie: await canaryCookieFor(t, id) } });
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
): Promise<PathCost[]> {
  const lists = await pathRequests(t, platforms);
  const costs: PathCost[] = [];
  for (const path of ['jwt', 'api-key', 'webhook', 'cookie'] as const) {
    const requests = lists[path];
    // Warm the resolver caches (flow -> platform, key -> platform) so the measured run is the steady state.
    for (const request of requests) {
      const res = await fetch(`${t.edge.url}${request.path ?? '/'}`, { method: request.method, headers: request.headers, body: request.body ?? null });
      await res.arrayBuffer();
    }
    costs.push({ path, cell: await measureCell(t, { target: 'edge', cohort, round: 0, connections, seconds: 0, amount, requests }) });
  }
  return costs;
}
