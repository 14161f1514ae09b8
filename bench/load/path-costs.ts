import { createHash, randomBytes } from 'node:crypto';
import type { AutocannonRequest } from 'autocannon';
import { principalToken } from '../../test/support/jwt.js';
import type { BenchTopology } from './bench-topology.js';
import type { LoadPlatforms } from './cohort.js';
import { measureCell } from './measure-cell.js';
import type { CellResult } from './measure-cell.js';

export type ResolutionPath = 'jwt' | 'api-key' | 'webhook' | 'cookie';

export interface PathCost {
  path: ResolutionPath;
  cell: CellResult;
}

function hexId(prefix: string): string {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

async function apiKeyFor(t: BenchTopology, platformId: string): Promise<string> {
  const key = `sk-${randomBytes(24).toString('hex')}`;
  const hashed = createHash('sha256').update(key).digest('hex');
  await t.pool.query('INSERT INTO api_key (id, platform_id, hashed_value) VALUES ($1, $2, $3)', [hexId('key'), platformId, hashed]);
  return key;
}

async function flowFor(t: BenchTopology, platformId: string): Promise<string> {
  const projectId = hexId('proj');
  const flowId = hexId('flow');
  await t.pool.query('INSERT INTO project (id, platform_id) VALUES ($1, $2)', [projectId, platformId]);
  await t.pool.query('INSERT INTO flow (id, project_id) VALUES ($1, $2)', [flowId, projectId]);
  return flowId;
}

/** The `ap_canary` cookie the edge sets when it routes a principal to the canary. */
async function canaryCookieFor(t: BenchTopology, platformId: string): Promise<string> {
  const token = await principalToken({ platformId, secret: t.jwtSecret, expiresInSeconds: 6 * 3600 });
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
    const token = await principalToken({ platformId: id, secret: t.jwtSecret, expiresInSeconds: 6 * 3600 });
    lists.jwt.push({ method: 'GET', path: '/v1/flows', headers: { authorization: `Bearer ${token}` } });
    lists['api-key'].push({ method: 'GET', path: '/v1/flows', headers: { authorization: `Bearer ${await apiKeyFor(t, id)}` } });
    lists.webhook.push({ method: 'POST', path: `/v1/webhooks/${await flowFor(t, id)}`, headers: { 'content-type': 'application/json' }, body: '{}' });
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
