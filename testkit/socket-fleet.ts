import { connectRunEvents } from './origin-socket.js';
import type { RunEventsClient } from './origin-socket.js';

/** One client of a fleet, with the platform it belongs to. */
export interface FleetClient {
  platformId: string;
  client: RunEventsClient;
}

/** Many principal sockets through one URL (the edge), `perPlatform` per platform. */
export interface SocketFleet {
  clients: FleetClient[];
  /** The clients of these platforms. */
  of(platformIds: Iterable<string>): FleetClient[];
  /** The clients of every other platform. */
  except(platformIds: Iterable<string>): FleetClient[];
  close(): Promise<void>;
}

/**
 * Connects `perPlatform` clients for each platform through `url`, `concurrency` handshakes at a time (a burst of
 * thousands would measure the edge's connect storm, not a handover), each resolved once its app greeted it.
 */
export async function connectFleet(
  url: string,
  platforms: readonly { platformId: string; token: string }[],
  options: { perPlatform: number; concurrency?: number },
): Promise<SocketFleet> {
  const plan = platforms.flatMap((p) => Array.from({ length: options.perPlatform }, () => p));
  const clients: FleetClient[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(clients.map((c) => c.client.close()));
  };
  let next = 0;
  let failed = false;
  const lane = async (): Promise<void> => {
    while (next < plan.length && !failed) {
      const p = plan[next++];
      if (p === undefined) break;
      try {
        clients.push({ platformId: p.platformId, client: await connectRunEvents(url, p.token) });
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  // Every lane ends (the others stop at the first failure) before a failure closes what did connect.
  const lanes = await Promise.allSettled(Array.from({ length: options.concurrency ?? 25 }, lane));
  const failure = lanes.find((l) => l.status === 'rejected');
  if (failure !== undefined) {
    await close();
    throw failure.reason;
  }
  const inSet = (ids: Iterable<string>): ((c: FleetClient) => boolean) => {
    const set = new Set(ids);
    return (c) => set.has(c.platformId);
  };
  return {
    clients,
    of: (ids) => clients.filter(inSet(ids)),
    except: (ids) => {
      const inside = inSet(ids);
      return clients.filter((c) => !inside(c));
    },
    close,
  };
}

/** The most of `times` (ms) that any window of `windowMs` [t, t + windowMs) holds. */
export function busiestWindow(times: readonly number[], windowMs = 1_000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  sorted.forEach((t, end) => {
    while ((sorted[start] ?? t) <= t - windowMs) start += 1;
    best = Math.max(best, end - start + 1);
  });
  return best;
}
