import { randomBytes } from 'node:crypto';
import { SIGNALS_RECORD_SCRIPT } from '../../core/judge/signal-batch.js';
import { scriptSha } from '../../core/membership/index.js';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { UpstashCounts } from '../services/upstash-main.js';
import { driveFixedRate } from '../soak/fixed-rate.js';
import { median } from '../support/stats.js';
import type { BenchTopology } from './bench-topology.js';
import { edgeAdmin } from './edge-admin.js';
import { resetCounters } from './measure-cell.js';

/** Kill switch: how many requests right after a pause (or resume) answered 200 still went the old way. */
export interface PauseStaleness {
  rounds: number;
  staleAfterPause: number;
  staleAfterResume: number;
  pauseMsP50: number;
  pauseMsMax: number;
}

/**
 * `rounds` times: pause, and the very next request of a pinned canary platform must reach the primary; resume, and
 * the very next one must reach the canary again ("from the next request on": 0 stale is the goal).
 */
export async function measurePauseStaleness(t: BenchTopology, canaryPlatformId: string, rounds: number): Promise<PauseStaleness> {
  const token = await signPrincipalJwt(t.jwtSecret, canaryPlatformId, { expiresInSeconds: 3600 });
  const originOf = async (): Promise<string | null> => {
    const res = await fetch(`${t.edge.url}/v1/flows`, { headers: { authorization: `Bearer ${token}` } });
    await res.arrayBuffer();
    return res.headers.get('x-origin');
  };
  if ((await originOf()) !== 'canary') throw new Error(`${canaryPlatformId} is not on the canary before the pause check`);
  let staleAfterPause = 0;
  let staleAfterResume = 0;
  const pauseMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    await edgeAdmin(t, 'POST', '/v1/admin/canary/pause', { reason: 'bench: staleness check' });
    pauseMs.push(performance.now() - started);
    if ((await originOf()) !== 'primary') staleAfterPause++;
    await edgeAdmin(t, 'POST', '/v1/admin/canary/resume', { reason: 'bench: staleness check' });
    if ((await originOf()) !== 'canary') staleAfterResume++;
  }
  return { rounds, staleAfterPause, staleAfterResume, pauseMsP50: median(pauseMs), pauseMsMax: Math.max(...pauseMs) };
}

/** Unknown API keys from one client: what they cost the database, and how the budget answered. */
export interface UnknownIdCost {
  ids: number;
  dbQueries: number;
  statuses: Record<string, number>;
}

/**
 * `ids` distinct, well-formed but unknown API keys from one client address (a key that cannot be one is refused
 * before any lookup): each would cost a Postgres read; the per-client budget (UNKNOWN_ID_LIMITER) bounds them.
 * The client address is one of its own, so the budget it spends is not the rest of the bench's.
 */
export async function measureUnknownIds(t: BenchTopology, ids: number, connections = 10): Promise<UnknownIdCost> {
  await resetCounters(t);
  const statuses: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next < ids) {
        next++;
        const res = await fetch(`${t.edge.url}/v1/flows`, {
          headers: { authorization: `Bearer sk-${randomBytes(24).toString('hex')}`, 'cf-connecting-ip': '198.51.100.77' },
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  return { ids, dbQueries: t.neon.stats.queries, statuses };
}

/** Health counting at a fixed rate: Redis requests it added per routed request, and the critical path's. */
export interface HealthCountingCost {
  rate: number;
  seconds: number;
  routed: number;
  /** Distinct platforms the requests named (request n names platform n, round robin). */
  platforms: number;
  healthFlushes: number;
  criticalRoundTrips: number;
}

/**
 * `seconds` at `rate` req/s through the edge, request n naming platform n of `platforms` (round robin: at 200 req/s
 * for 50 s, each of 10,000 platforms once); counts the signal flushes the Upstash endpoint received.
 */
export async function measureHealthCounting(t: BenchTopology, platforms: readonly string[], rate: number, seconds: number): Promise<HealthCountingCost> {
  const tokens = await Promise.all(platforms.map((id) => signPrincipalJwt(t.jwtSecret, id, { expiresInSeconds: 3600 })));
  const send = async (n: number): Promise<void> => {
    const res = await fetch(`${t.edge.url}/v1/flows`, { headers: { authorization: `Bearer ${tokens[n % tokens.length] ?? ''}` } });
    await res.arrayBuffer();
  };
  await send(platforms.length - 1); // warm (the last platform: the load reaches it last, if at all)
  await resetCounters(t);
  const load = await driveFixedRate({ rate, seconds, maxInFlight: 200, launch: send });
  // The last batch goes out within a second of the last request.
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  const counts = await t.upstash.call<UpstashCounts>('counts');
  const healthFlushes = counts.byScript[await scriptSha(SIGNALS_RECORD_SCRIPT)] ?? 0;
  const platformsNamed = Math.min(platforms.length, load.sent);
  return { rate, seconds: load.seconds, routed: load.sent, platforms: platformsNamed, healthFlushes, criticalRoundTrips: counts.requests - healthFlushes };
}
