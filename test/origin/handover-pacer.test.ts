import { seededRandom } from '../../testkit/seeded-random.js';
import { describe, expect, it } from 'vitest';
import { DEFAULT_HANDOVER_JITTER, HandoverPacer } from '../../origin/realtime/handover-pacer.js';
import type { HandoverTask, PacerClock } from '../../origin/realtime/handover-pacer.js';

// The pacer on a fake clock: every timing below is exact, so the rate bound is checked, not estimated.

interface FakeClock extends PacerClock {
  /** Runs the due timers in time order up to `ms`. */
  runUntil(ms: number): void;
}

/** A fake clock; `early` makes every timer fire that many ms before its time (real timers run on a coarser clock). */
function fakeClock(early = 0): FakeClock {
  let now = 0;
  let timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    now: () => now,
    setTimer(fn, ms) {
      const timer = { at: now + (early > 0 && ms > 0 ? Math.max(1, ms - early) : ms), fn, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
    runUntil(ms) {
      for (;;) {
        timers = timers.filter((t) => !t.cancelled);
        const next = timers.reduce<(typeof timers)[number] | undefined>((a, t) => (a === undefined || t.at < a.at ? t : a), undefined);
        if (next === undefined || next.at > ms) break;
        timers.splice(timers.indexOf(next), 1);
        now = Math.max(now, next.at);
        next.fn();
      }
      now = Math.max(now, ms);
    },
  };
}

/** A seeded uniform [0, 1), so every run draws the same jitter. */
const seeded = seededRandom;

/** Tasks that record when (by `clock`) and in which order they ran; `gone` ids report their socket gone. */
function recorder(clock: PacerClock, gone: ReadonlySet<string> = new Set()) {
  const ran: { id: string; at: number }[] = [];
  const tasks = (ids: readonly string[]): HandoverTask[] =>
    ids.map((id) => ({
      id,
      run: () => {
        ran.push({ id, at: clock.now() });
        return !gone.has(id);
      },
    }));
  return { ran, tasks };
}

const ids = (n: number, prefix = 's'): string[] => Array.from({ length: n }, (_, i) => `${prefix}${i}`);

/** The most handovers any window of one second [t, t + 1000) holds. */
function busiestSecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let best = 0;
  let start = 0;
  sorted.forEach((t, end) => {
    while ((sorted[start] ?? t) <= t - 1000) start += 1;
    best = Math.max(best, end - start + 1);
  });
  return best;
}

describe('the handover pacer', () => {
  it('hands over at most `rate` sockets in any second, each gap between 1/rate and (1 + jitter)/rate', async () => {
    const clock = fakeClock();
    const pacer = new HandoverPacer({ ratePerSecond: 40, random: seeded(7), clock });
    const { ran, tasks } = recorder(clock);
    const batch = pacer.schedule(tasks(ids(200)));
    expect(batch).toMatchObject({ scheduled: 200, alreadyScheduled: 0 });
    clock.runUntil(60_000);
    expect(await batch.done).toEqual({ handedOver: 200, gone: 0, cancelled: 0 });
    const times = ran.map((r) => r.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] ?? 0));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000 / 40);
    // (+1 ms: timers take whole milliseconds, rounded up.)
    expect(Math.max(...gaps)).toBeLessThanOrEqual((1000 / 40) * (1 + DEFAULT_HANDOVER_JITTER) + 1);
    expect(busiestSecond(times)).toBeLessThanOrEqual(40);
    // Spread, not bunched: the gaps really vary, and 200 sockets take between 199/rate and 199 × 1.25/rate.
    expect(new Set(gaps).size).toBeGreaterThan(5);
    expect(times.at(-1)).toBeGreaterThanOrEqual((199 * 1000) / 40);
    expect(times.at(-1)).toBeLessThanOrEqual((199 * 1000 * 1.25) / 40 + 199);
  });

  it('keeps the bound at the jitter extremes and when timers fire early', async () => {
    for (const [random, early] of [[() => 0, 0], [() => 0.999_999, 0], [seeded(3), 3]] as const) {
      const clock = fakeClock(early);
      const pacer = new HandoverPacer({ ratePerSecond: 10, random, clock });
      const { ran, tasks } = recorder(clock);
      const batch = pacer.schedule(tasks(ids(30)));
      clock.runUntil(10_000);
      expect((await batch.done).handedOver).toBe(30);
      const gaps = ran.slice(1).map((r, i) => r.at - (ran[i]?.at ?? 0));
      expect(Math.min(...gaps)).toBeGreaterThanOrEqual(100);
      expect(Math.max(...gaps)).toBeLessThanOrEqual(125 + early + 1);
      expect(busiestSecond(ran.map((r) => r.at))).toBeLessThanOrEqual(10);
    }
  });

  it('shuffles each batch, and runs every socket exactly once', () => {
    const clock = fakeClock();
    const pacer = new HandoverPacer({ ratePerSecond: 1000, random: seeded(11), clock });
    const { ran, tasks } = recorder(clock);
    pacer.schedule(tasks(ids(50)));
    clock.runUntil(10_000);
    const order = ran.map((r) => r.id);
    expect([...order].sort()).toEqual(ids(50).sort());
    expect(order).not.toEqual(ids(50));
  });

  it('never schedules a socket that is already waiting, and shares one rate between batches', async () => {
    const clock = fakeClock();
    const pacer = new HandoverPacer({ ratePerSecond: 20, jitter: 0, random: seeded(5), clock });
    const { ran, tasks } = recorder(clock);
    const first = pacer.schedule(tasks(['a', 'b', 'c']));
    const second = pacer.schedule(tasks(['b', 'c', 'd', 'd']));
    expect(first).toMatchObject({ scheduled: 3, alreadyScheduled: 0 });
    expect(second).toMatchObject({ scheduled: 1, alreadyScheduled: 3 });
    expect(pacer.has('b')).toBe(true);
    clock.runUntil(10_000);
    expect(ran.map((r) => r.id).sort()).toEqual(['a', 'b', 'c', 'd']);
    // The second batch waits behind the first: four turns, 1/rate apart.
    expect(ran.map((r) => r.at)).toEqual([0, 50, 100, 150]);
    expect(await second.done).toEqual({ handedOver: 1, gone: 0, cancelled: 0 });
    // Once it had its turn, a socket may be scheduled again (it reconnected and its platform moved again).
    expect(pacer.has('b')).toBe(false);
    expect(pacer.schedule(tasks(['b'])).scheduled).toBe(1);
  });

  it('skips a socket that went away meanwhile without using up a turn', async () => {
    const clock = fakeClock();
    const gone = new Set(['s1', 's3', 's5', 's7', 's9']);
    const pacer = new HandoverPacer({ ratePerSecond: 10, jitter: 0, random: seeded(1), clock });
    const { ran, tasks } = recorder(clock, gone);
    const batch = pacer.schedule(tasks(ids(10)));
    clock.runUntil(10_000);
    expect(await batch.done).toEqual({ handedOver: 5, gone: 5, cancelled: 0 });
    const handedOver = ran.filter((r) => !gone.has(r.id)).map((r) => r.at);
    expect(handedOver).toEqual([0, 100, 200, 300, 400]);
  });

  it('takes a waiting socket back on cancel, and drops every waiting one on close', async () => {
    const clock = fakeClock();
    const pacer = new HandoverPacer({ ratePerSecond: 10, jitter: 0, random: seeded(2), clock });
    const { ran, tasks } = recorder(clock);
    const batch = pacer.schedule(tasks(ids(6)));
    clock.runUntil(150); // two turns: at 0 and 100 ms
    const waiting = ids(6).filter((id) => pacer.has(id));
    expect(waiting).toHaveLength(4);
    expect(pacer.cancel(waiting[0] ?? '')).toBe(true);
    expect(pacer.cancel('never-scheduled')).toBe(false);
    pacer.close();
    clock.runUntil(10_000);
    expect(ran).toHaveLength(2);
    expect(await batch.done).toEqual({ handedOver: 2, gone: 0, cancelled: 4 });
    expect(pacer.schedule(tasks(['late'])).scheduled).toBe(0);
  });

  it('refuses a rate or jitter it could not honour', () => {
    expect(() => new HandoverPacer({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new HandoverPacer({ ratePerSecond: 10, jitter: 2 })).toThrow(RangeError);
  });
});
