/** A flip from the moment its first attempt was sent until the admin route acknowledged it with a 200 (null: never). */
export interface FlipWindow {
  platformId: string;
  to: boolean;
  startedAt: number;
  ackedAt: number | null;
  attempts: number;
}

/**
 * The acknowledged canary membership over time. A request sent after a flip's 200 must see the new side; a request
 * whose [sent, received] interval overlaps a flip that was not yet acknowledged may see either side.
 */
export class MembershipLedger {
  readonly #initial: Map<string, boolean>;
  readonly #flips = new Map<string, FlipWindow[]>();

  constructor(initial: Map<string, boolean>) {
    this.#initial = new Map(initial);
  }

  /** Opens a flip window (call before the first admin request is sent). */
  begin(platformId: string, to: boolean, now: number): FlipWindow {
    const window: FlipWindow = { platformId, to, startedAt: now, ackedAt: null, attempts: 0 };
    const list = this.#flips.get(platformId) ?? [];
    list.push(window);
    this.#flips.set(platformId, list);
    return window;
  }

  /** Closes a flip window at the moment its 200 arrived. */
  ack(window: FlipWindow, now: number): void {
    window.ackedAt = now;
  }

  /** Membership values a request for `platformId` sent at `sentAt` and answered at `receivedAt` may legitimately see. */
  allowed(platformId: string, sentAt: number, receivedAt: number): Set<boolean> {
    const flips = this.#flips.get(platformId) ?? [];
    let acknowledged = this.#initial.get(platformId) ?? false;
    for (const flip of flips) if (flip.ackedAt !== null && flip.ackedAt <= sentAt) acknowledged = flip.to;
    const allowed = new Set([acknowledged]);
    for (const flip of flips) {
      const open = flip.ackedAt === null || flip.ackedAt > sentAt;
      if (flip.startedAt <= receivedAt && open) allowed.add(flip.to);
    }
    return allowed;
  }

  /** Every flip of every platform. */
  flips(): FlipWindow[] {
    return [...this.#flips.values()].flat();
  }
}

export type DrillKind = 'upstash' | 'neon' | 'canary';

/** A fault drill from the moment the stop began until the restarted service was ready. */
export interface DrillWindow {
  kind: DrillKind;
  startedAt: number;
  endedAt: number | null;
}

/** True when a request's [sent, received] interval overlaps the window. */
export function overlaps(window: { startedAt: number; endedAt: number | null }, sentAt: number, receivedAt: number): boolean {
  return window.startedAt <= receivedAt && (window.endedAt === null || window.endedAt >= sentAt);
}
