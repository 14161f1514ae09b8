/** One socket to hand over: `run()` tells it to reconnect and disconnects it; false when the socket is gone. */
export interface HandoverTask {
  id: string;
  run(): boolean;
}

/** What became of one batch's sockets once none of them is pending any more. */
export interface BatchOutcome {
  handedOver: number;
  /** Disconnected by themselves before their turn: skipped, without using up a turn. */
  gone: number;
  /** Taken back (`cancel`, e.g. their platform came back to this side) or dropped at close. */
  cancelled: number;
}

/** A batch accepted by `schedule`. */
export interface ScheduledBatch {
  scheduled: number;
  /** Tasks whose socket was already waiting for its turn (from an earlier batch): not scheduled twice. */
  alreadyScheduled: number;
  done: Promise<BatchOutcome>;
}

/** The pacer's time: a monotonic clock in ms and a timer (injected by tests). */
export interface PacerClock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

export interface HandoverPacerOptions {
  /** At most this many handovers per second (SOCKET_HANDOVER_RATE). */
  ratePerSecond: number;
  /** Each gap is 1/rate plus up to this fraction of it, at random (default 0.25). */
  jitter?: number;
  /** Uniform in [0, 1): the gaps' jitter and the order within a batch. */
  random?: () => number;
  clock?: PacerClock;
}

/** The default jitter: gaps of 1/rate to 1.25/rate, so the mean rate is about 89% of the configured one. */
export const DEFAULT_HANDOVER_JITTER = 0.25;

const realClock: PacerClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

interface Batch {
  remaining: number;
  outcome: BatchOutcome;
  resolve(outcome: BatchOutcome): void;
}

interface Entry {
  task: HandoverTask;
  batch: Batch;
  cancelled: boolean;
}

/**
 * Hands sockets over one at a time, each at least 1/rate after the previous one plus a random part of that gap, so
 * no second ever sees more than `ratePerSecond` handovers from this app (the reconnects land on the other app, and
 * the edge and its stores, as a trickle instead of a stampede). The order within a batch is shuffled, so no client is
 * systematically first. A socket waiting for its turn is never scheduled twice; one that went away meanwhile is skipped.
 */
export class HandoverPacer {
  readonly #gapMs: number;
  readonly #jitter: number;
  readonly #random: () => number;
  readonly #clock: PacerClock;
  readonly #queue: Entry[] = [];
  #head = 0;
  readonly #pending = new Map<string, Entry>();
  #nextAt = Number.NEGATIVE_INFINITY;
  #timer: { cancel(): void } | null = null;
  #closed = false;

  constructor(options: HandoverPacerOptions) {
    if (!(options.ratePerSecond > 0)) throw new RangeError(`ratePerSecond must be positive, got ${options.ratePerSecond}`);
    const jitter = options.jitter ?? DEFAULT_HANDOVER_JITTER;
    if (!(jitter >= 0 && jitter <= 1)) throw new RangeError(`jitter must be within [0, 1], got ${jitter}`);
    this.#gapMs = 1000 / options.ratePerSecond;
    this.#jitter = jitter;
    this.#random = options.random ?? Math.random;
    this.#clock = options.clock ?? realClock;
  }

  /** Sockets waiting for their turn. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Whether the socket is waiting for its turn. */
  has(id: string): boolean {
    return this.#pending.has(id);
  }

  /** Queues the tasks (shuffled) after those already waiting; `done` resolves when each one ran, went or was cancelled. */
  schedule(tasks: readonly HandoverTask[]): ScheduledBatch {
    let resolve: (outcome: BatchOutcome) => void = () => undefined;
    const done = new Promise<BatchOutcome>((r) => (resolve = r));
    const batch: Batch = { remaining: 0, outcome: { handedOver: 0, gone: 0, cancelled: 0 }, resolve };
    const fresh: Entry[] = [];
    let alreadyScheduled = 0;
    for (const task of tasks) {
      if (this.#closed) break;
      if (this.#pending.has(task.id)) {
        alreadyScheduled += 1;
        continue;
      }
      const entry: Entry = { task, batch, cancelled: false };
      this.#pending.set(task.id, entry);
      fresh.push(entry);
    }
    // Fisher-Yates: every order equally likely.
    for (let i = fresh.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      const a = fresh[i];
      const b = fresh[j];
      if (a !== undefined && b !== undefined) [fresh[i], fresh[j]] = [b, a];
    }
    batch.remaining = fresh.length;
    this.#queue.push(...fresh);
    if (batch.remaining === 0) resolve(batch.outcome);
    this.#pump();
    return { scheduled: fresh.length, alreadyScheduled, done };
  }

  /** Takes a waiting socket back (it no longer has to move); false if it was not waiting. */
  cancel(id: string): boolean {
    const entry = this.#pending.get(id);
    if (entry === undefined) return false;
    this.#pending.delete(id);
    entry.cancelled = true;
    this.#settle(entry, 'cancelled');
    return true;
  }

  /** Drops every waiting socket (counted as cancelled) and stops the timer. */
  close(): void {
    this.#closed = true;
    this.#timer?.cancel();
    this.#timer = null;
    for (const id of [...this.#pending.keys()]) this.cancel(id);
    this.#queue.length = 0;
    this.#head = 0;
  }

  #settle(entry: Entry, how: keyof BatchOutcome): void {
    entry.batch.outcome[how] += 1;
    entry.batch.remaining -= 1;
    if (entry.batch.remaining === 0) entry.batch.resolve(entry.batch.outcome);
  }

  #pump(): void {
    if (this.#pending.size === 0) {
      // Nothing waits (what is left in the queue was cancelled): forget it.
      this.#queue.length = 0;
      this.#head = 0;
    }
    if (this.#closed || this.#timer !== null || this.#pending.size === 0) return;
    const wait = this.#nextAt - this.#clock.now();
    // A timer may fire a little early by this clock (timers run on a coarser one): it is simply armed again.
    this.#timer = this.#clock.setTimer(() => {
      this.#timer = null;
      if (this.#clock.now() >= this.#nextAt) this.#releaseOne();
      this.#pump();
    }, Math.max(0, Math.ceil(wait)));
  }

  /** Runs the next task whose socket is still there; the ones gone or cancelled meanwhile use up no turn. */
  #releaseOne(): void {
    while (this.#head < this.#queue.length) {
      const entry = this.#queue[this.#head];
      this.#head += 1;
      if (entry === undefined || entry.cancelled) continue;
      this.#pending.delete(entry.task.id);
      let ran = false;
      try {
        ran = entry.task.run();
      } catch {
        ran = false;
      }
      this.#settle(entry, ran ? 'handedOver' : 'gone');
      if (ran) {
        this.#nextAt = this.#clock.now() + this.#gapMs * (1 + this.#jitter * this.#random());
        break;
      }
    }
    // Drop what was consumed now and then, so a long-lived queue does not keep every task it ever had.
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
