import { effectiveMembership } from '../../core/membership/effective.js';
import type { ExplicitChoice, RolloutState } from '../../core/membership/effective.js';

/** A change from the moment its first attempt was sent until it was known to hold (null: never acknowledged). */
export interface ChangeWindow {
  startedAt: number;
  ackedAt: number | null;
  attempts: number;
}

/** A flip: an explicit operator choice (pin in / keep out) acknowledged by the admin route's 200. */
export interface FlipWindow extends ChangeWindow {
  platformId: string;
  to: boolean;
}

/** A rollout change (`PUT /v1/admin/canary/rollout`); `salt` is the one the answer named (the known one until then). */
export interface RolloutWindow extends ChangeWindow {
  basisPoints: number;
  salt: string;
}

/** A pause or resume of canary routing: by the admin route (acknowledged by its 200) or by the judge. */
export interface PauseWindow extends ChangeWindow {
  paused: boolean;
  actor: 'admin' | 'judge';
}

/** The rollout part of the state: what the percentage rule needs. */
type RolloutValue = Pick<RolloutState, 'basisPoints' | 'salt'>;

/**
 * The values one piece of state may have for a request sent at `sentAt` and answered at `receivedAt`: the last
 * acknowledged value before it was sent, plus the value of every change that was in flight (started before the
 * answer, not acknowledged before the request was sent). A never-acknowledged change stays in flight for good.
 */
function candidates<W extends ChangeWindow, V>(initial: V, windows: readonly W[], valueOf: (w: W) => V, sentAt: number, receivedAt: number): V[] {
  let acknowledged = initial;
  for (const w of windows) if (w.ackedAt !== null && w.ackedAt <= sentAt) acknowledged = valueOf(w);
  const values = [acknowledged];
  for (const w of windows) {
    const open = w.ackedAt === null || w.ackedAt > sentAt;
    if (w.startedAt <= receivedAt && open) values.push(valueOf(w));
  }
  return values;
}

/**
 * The acknowledged routing state over time: each platform's explicit choice (or none: it follows the rollout), the
 * rollout percentage and salt, and the kill switch. A request must land on the side the effective membership rule
 * (`effectiveMembership`, the product's one implementation) gives for the state acknowledged when it was sent; for a
 * request that overlapped changes still in flight, any combination of those changes applied or not is acceptable.
 */
export class MembershipLedger {
  readonly #initialChoice: Map<string, ExplicitChoice>;
  readonly #initialRollout: RolloutValue;
  readonly #initialPaused: boolean;
  readonly #flips = new Map<string, FlipWindow[]>();
  readonly #rollouts: RolloutWindow[] = [];
  readonly #pauses: PauseWindow[] = [];
  // Each (platform, choice, rollout, paused) is decided once: answers are many, distinct states few.
  readonly #decided = new Map<string, Promise<boolean>>();

  /**
   * `initial`: each platform's explicit choice when the load starts (`true` pinned in, `false` kept out, `null`
   * none: it follows the rollout); `rollout`: the rollout state then (default: 0%, not paused).
   */
  constructor(initial: ReadonlyMap<string, boolean | null>, rollout: RolloutState = { basisPoints: 0, salt: '', paused: false }) {
    this.#initialChoice = new Map([...initial].map(([id, canary]) => [id, canary === null ? null : canary ? 'in' : 'out']));
    this.#initialRollout = { basisPoints: rollout.basisPoints, salt: rollout.salt };
    this.#initialPaused = rollout.paused;
  }

  /** Opens a flip window (call before the first admin request is sent). */
  begin(platformId: string, to: boolean, now: number): FlipWindow {
    const window: FlipWindow = { platformId, to, startedAt: now, ackedAt: null, attempts: 0 };
    const list = this.#flips.get(platformId) ?? [];
    list.push(window);
    this.#flips.set(platformId, list);
    return window;
  }

  /** Opens a rollout change window (call before the first admin request is sent). */
  beginRollout(basisPoints: number, salt: string, now: number): RolloutWindow {
    const window: RolloutWindow = { basisPoints, salt, startedAt: now, ackedAt: null, attempts: 0 };
    this.#rollouts.push(window);
    return window;
  }

  /**
   * Opens a pause/resume window. For the judge, whose change is only observed afterwards, `now` is a time known to
   * precede its commit (the start of the tick that paused).
   */
  beginPause(paused: boolean, actor: PauseWindow['actor'], now: number): PauseWindow {
    const window: PauseWindow = { paused, actor, startedAt: now, ackedAt: null, attempts: 0 };
    this.#pauses.push(window);
    return window;
  }

  /** Closes a window at the moment the change was known to hold (the admin route's 200). */
  ack(window: ChangeWindow, now: number): void {
    window.ackedAt = now;
  }

  /** Each state a request sent at `sentAt` and answered at `receivedAt` may have met: explicit choice, rollout, pause. */
  #candidates(platformId: string, sentAt: number, receivedAt: number): { choices: (ExplicitChoice | null)[]; rollouts: RolloutValue[]; pauses: boolean[] } {
    return {
      choices: candidates<FlipWindow, ExplicitChoice>(this.#initialChoice.get(platformId) ?? null, this.#flips.get(platformId) ?? [], (w) => (w.to ? 'in' : 'out'), sentAt, receivedAt),
      rollouts: candidates<RolloutWindow, RolloutValue>(this.#initialRollout, this.#rollouts, (w) => w, sentAt, receivedAt),
      pauses: candidates<PauseWindow, boolean>(this.#initialPaused, this.#pauses, (w) => w.paused, sentAt, receivedAt),
    };
  }

  /** Sides (true: canary) a request for `platformId` sent at `sentAt` and answered at `receivedAt` may legitimately see. */
  async allowed(platformId: string, sentAt: number, receivedAt: number): Promise<Set<boolean>> {
    const { choices, rollouts, pauses } = this.#candidates(platformId, sentAt, receivedAt);
    const sides = new Set<boolean>();
    for (const choice of new Set(choices)) {
      for (const rollout of rollouts) {
        for (const paused of new Set(pauses)) sides.add(await this.#decide(platformId, choice, { ...rollout, paused }));
      }
    }
    return sides;
  }

  /** The state a request may have met, for a failure's description: explicit choices, rollout basis points, paused. */
  explain(platformId: string, sentAt: number, receivedAt: number): string {
    const { choices, rollouts, pauses } = this.#candidates(platformId, sentAt, receivedAt);
    const list = (values: readonly unknown[]): string => [...new Set(values.map(String))].join('|');
    return `choice ${list(choices.map((c) => c ?? 'none'))}, rollout ${list(rollouts.map((r) => `${r.basisPoints}bp`))}, paused ${list(pauses)}`;
  }

  /** Every flip of every platform. */
  flips(): FlipWindow[] {
    return [...this.#flips.values()].flat();
  }

  /** Every rollout change, in order. */
  rollouts(): RolloutWindow[] {
    return [...this.#rollouts];
  }

  /** Every pause and resume, in order. */
  pauses(): PauseWindow[] {
    return [...this.#pauses];
  }

  #decide(platformId: string, choice: ExplicitChoice, state: RolloutState): Promise<boolean> {
    const key = JSON.stringify([platformId, choice, state.basisPoints, state.salt, state.paused]);
    let side = this.#decided.get(key);
    if (side === undefined) {
      side = effectiveMembership(platformId, choice, state).then((m) => m.canary);
      this.#decided.set(key, side);
    }
    return side;
  }
}

/**
 * What a drill breaks: `guard` is the broad canary failure (the canary origin stopped until the judge pauses canary
 * routing), `quarantine` the canary failing one platform (until the judge quarantines it); the others stop Upstash,
 * Neon or the canary origin for a fixed time.
 */
export type DrillKind = 'guard' | 'quarantine' | 'upstash' | 'neon' | 'canary';

/** A fault drill from the moment the stop began until the restarted service was ready. */
export interface DrillWindow {
  kind: DrillKind;
  startedAt: number;
  endedAt: number | null;
  /** The one platform a `quarantine` drill fails. */
  platformId?: string;
}

/** True when a request's [sent, received] interval overlaps the window. */
export function overlaps(window: { startedAt: number; endedAt: number | null }, sentAt: number, receivedAt: number): boolean {
  return window.startedAt <= receivedAt && (window.endedAt === null || window.endedAt >= sentAt);
}
