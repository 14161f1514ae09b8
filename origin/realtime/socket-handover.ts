import type { FlipEntry, MembershipAnswer } from '../../core/membership/index.js';
import type { Logger } from '../logger.js';
import { sideOf } from './client-events.js';
import type { AppSide, CanaryReconnect } from './client-events.js';
import type { HandoverPacer, HandoverTask } from './handover-pacer.js';

/** What the handover needs of this app's Socket.IO server: its own principal sockets, nobody else's. */
export interface LocalSockets {
  /** This app's principal socket ids by platform; only `platformId`'s when given. */
  byPlatform(platformId?: string): Map<string, string[]>;
  /** Sends `canary:reconnect` to the socket, then disconnects it; false when it is no longer connected here. */
  handOver(socketId: string, notice: CanaryReconnect): boolean;
}

export interface SocketHandoverOptions {
  sockets: LocalSockets;
  /** The side this app is on. */
  side: AppSide;
  /** MembershipStore, or anything answering a platform's side and where the answer came from. */
  membership: { lookup(ref: { kind: 'platform'; platformId: string }): Promise<Pick<MembershipAnswer, 'canary' | 'authority'>> };
  pacer: HandoverPacer;
  logger: Logger;
  /** Delay of the second look after each change (default 2 s); see `handle`. */
  settleMs?: number;
  /** Membership lookups in flight at once while one change is checked (default 16). */
  lookupConcurrency?: number;
}

/** Which look at a change this is: at once, or the second one `settleMs` later. */
type Pass = 'change' | 'settle';

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  });
  await Promise.all(lanes);
  return results;
}

/**
 * Makes this app's live sockets follow membership. A WebSocket stays on the app the edge sent it to for as long as it
 * lives, so after a change of who goes where (every change reaches every app through the flips stream) the app looks
 * up the platforms of its own sockets concerned, and asks each socket on the side its platform left to reconnect:
 * the edge then routes it to the side it belongs to now. The pacer spreads those reconnects at the configured rate.
 * Membership decides, not the entry (entries can be replayed or reordered); with the stores down, nothing moves.
 */
export class SocketHandover {
  readonly #options: SocketHandoverOptions;
  readonly #settleTimers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: SocketHandoverOptions) {
    this.#options = options;
  }

  /**
   * Schedules the handover of the sockets this change moves and returns (the handover itself runs at the pacer's
   * rate). A second look follows `settleMs` later: a socket whose handshake was in flight when the change was applied
   * (routed by the edge just before it, joined here just after the first look) would otherwise stay on the wrong side.
   */
  async handle(flip: FlipEntry): Promise<void> {
    if (this.#closed) return;
    await this.#sweep(flip, 'change');
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#settleTimers.delete(timer);
      this.#sweep(flip, 'settle').catch((error: unknown) => this.#options.logger.error('socket handover: second look failed', { entryId: flip.id, error }));
    }, this.#options.settleMs ?? 2_000);
    timer.unref();
    this.#settleTimers.add(timer);
  }

  /** Stops scheduling; sockets still waiting for their turn stay where they are (the app is shutting down anyway). */
  close(): void {
    this.#closed = true;
    for (const timer of this.#settleTimers) clearTimeout(timer);
    this.#settleTimers.clear();
    this.#options.pacer.close();
  }

  async #lookup(platformId: string): Promise<Pick<MembershipAnswer, 'canary'> | null> {
    try {
      const answer = await this.#options.membership.lookup({ kind: 'platform', platformId });
      return answer.authority === 'none' ? null : answer;
    } catch (error) {
      this.#options.logger.warn('socket handover: membership lookup failed', { platformId, error });
      return null;
    }
  }

  async #sweep(flip: FlipEntry, pass: Pass): Promise<void> {
    const { sockets, side, pacer, logger } = this.#options;
    const started = performance.now();
    const { change } = flip;
    const groups = sockets.byPlatform(change.scope === 'platform' ? change.platformId : undefined);
    const platforms = [...groups.keys()];
    const answers = await mapLimit(platforms, this.#options.lookupConcurrency ?? 16, (platformId) => this.#lookup(platformId));
    if (this.#closed) return;
    const tasks: HandoverTask[] = [];
    const counts = { sockets: 0, stay: 0, unknown: 0, takenBack: 0 };
    platforms.forEach((platformId, i) => {
      const ids = groups.get(platformId) ?? [];
      const answer = answers[i] ?? null;
      counts.sockets += ids.length;
      if (answer === null) {
        counts.unknown += ids.length;
        return;
      }
      const target = sideOf(answer.canary);
      if (target === side) {
        counts.stay += ids.length;
        // Scheduled by an earlier change that this one undid (a flip and its flip back): no need to move any more.
        for (const id of ids) if (pacer.cancel(id)) counts.takenBack += 1;
        return;
      }
      const notice: CanaryReconnect = { reason: 'membership-changed', side: target };
      for (const id of ids) tasks.push({ id, run: () => sockets.handOver(id, notice) });
    });
    const batch = pacer.schedule(tasks);
    const quiet = pass === 'settle' ? batch.scheduled === 0 && counts.takenBack === 0 : counts.sockets === 0;
    if (quiet) return;
    const fields = {
      entryId: flip.id,
      scope: change.scope,
      ...(change.scope === 'platform' ? { platformId: change.platformId } : {}),
      pass,
      side,
      platforms: platforms.length,
      ...counts,
      scheduled: batch.scheduled,
      alreadyScheduled: batch.alreadyScheduled,
    };
    // One line per batch, once its last socket had its turn.
    void batch.done.then((outcome) =>
      logger.info('socket handover', { ...fields, ...outcome, seconds: Number(((performance.now() - started) / 1000).toFixed(3)) }),
    );
  }
}
