import { afterEach, describe, expect, it } from 'vitest';
import type { FlipEntry, MembershipAnswer, MembershipChange } from '../../core/membership/index.js';
import type { Logger } from '../../origin/logger.js';
import type { AppSide, CanaryReconnect } from '../../origin/realtime/client-events.js';
import { HandoverPacer } from '../../origin/realtime/handover-pacer.js';
import { SocketHandover } from '../../origin/realtime/socket-handover.js';
import type { LocalSockets } from '../../origin/realtime/socket-handover.js';

// Which sockets a change moves, decided against fakes of the app's sockets and of membership: the rules, without
// processes. The same rules end to end (real apps, the edge, clients following): test/origin/socket-handover.test.ts.

/** Membership as a table: platform -> canary?; a platform missing from it answers like stores that are down. */
function membership(table: Map<string, boolean>): {
  lookup: (ref: { kind: 'platform'; platformId: string }) => Promise<Pick<MembershipAnswer, 'canary' | 'authority'>>;
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    lookup: async ({ platformId }) => {
      asked.push(platformId);
      const canary = table.get(platformId);
      // Both stores down: the fail-open default (primary) with authority none.
      return canary === undefined ? { canary: false, authority: 'none' } : { canary, authority: 'cache' };
    },
  };
}

/** This app's sockets: socket id -> platform; `handOver` records the notice and drops the socket. */
function localSockets(initial: Record<string, string>): LocalSockets & { live: Map<string, string>; notices: Map<string, CanaryReconnect> } {
  const live = new Map(Object.entries(initial));
  const notices = new Map<string, CanaryReconnect>();
  return {
    live,
    notices,
    byPlatform(platformId) {
      const groups = new Map<string, string[]>();
      for (const [id, p] of live) {
        if (platformId !== undefined && p !== platformId) continue;
        groups.set(p, [...(groups.get(p) ?? []), id]);
      }
      return groups;
    },
    handOver(socketId, notice) {
      if (!live.delete(socketId)) return false;
      notices.set(socketId, notice);
      return true;
    },
  };
}

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined, child: () => quiet };
let entries = 0;
const entry = (change: MembershipChange): FlipEntry => ({ id: `${Date.now()}-${entries++}`, change });
const flipOf = (platformId: string, choice: 'in' | 'out'): FlipEntry => entry({ scope: 'platform', platformId, choice });

const started: SocketHandover[] = [];
afterEach(() => {
  for (const h of started.splice(0)) h.close();
});

/** A handover of `side` over the fakes, its pacer fast enough that a test waits milliseconds. */
function handoverOf(side: AppSide, sockets: LocalSockets, table: Map<string, boolean>, settleMs = 60_000) {
  const m = membership(table);
  const pacer = new HandoverPacer({ ratePerSecond: 1_000 });
  const handover = new SocketHandover({ sockets, side, membership: m, pacer, logger: quiet, settleMs });
  started.push(handover);
  return { handover, pacer, asked: m.asked };
}

/** Polls until `check` holds; fails after two seconds. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 2_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('which sockets a change moves', () => {
  it("a platform's flip moves that platform's sockets on the side it left, and asks about no other platform", async () => {
    const sockets = localSockets({ a1: 'A', a2: 'A', b1: 'B' });
    const { handover, asked } = handoverOf('primary', sockets, new Map([['A', true], ['B', true]]));
    await handover.handle(flipOf('A', 'in'));
    await until(() => sockets.notices.size === 2);
    expect(asked).toEqual(['A']);
    expect(new Map(sockets.notices)).toEqual(
      new Map([
        ['a1', { reason: 'membership-changed', side: 'canary' }],
        ['a2', { reason: 'membership-changed', side: 'canary' }],
      ]),
    );
    // B is a canary platform too, but its entry was not this one: its socket is left alone until its own change.
    expect([...sockets.live.keys()]).toEqual(['b1']);
  });

  it('trusts membership, not the entry: a flip whose platform is on this side after all moves nothing', async () => {
    const sockets = localSockets({ a1: 'A' });
    const { handover, pacer } = handoverOf('canary', sockets, new Map([['A', true]]));
    await handover.handle(flipOf('A', 'out'));
    expect(pacer.pending).toBe(0);
    expect(sockets.notices.size).toBe(0);
  });

  it('a change of every platform (a pause) looks up every platform of its sockets, once each, and moves those that left', async () => {
    const sockets = localSockets({ a1: 'A', a2: 'A', b1: 'B', c1: 'C' });
    // Paused: membership says primary for everyone.
    const { handover, asked } = handoverOf('canary', sockets, new Map([['A', false], ['B', false], ['C', false]]));
    await handover.handle(entry({ scope: 'all' }));
    await until(() => sockets.live.size === 0);
    expect([...asked].sort()).toEqual(['A', 'B', 'C']);
    expect([...sockets.notices.values()].every((n) => n.side === 'primary')).toBe(true);
  });

  it('moves nothing of a platform whose membership cannot be read (stores down)', async () => {
    const sockets = localSockets({ a1: 'A', u1: 'unknown', u2: 'unknown' });
    const { handover } = handoverOf('canary', sockets, new Map([['A', false]]));
    await handover.handle(entry({ scope: 'all' }));
    await until(() => !sockets.live.has('a1'));
    expect([...sockets.live.keys()]).toEqual(['u1', 'u2']);
  });

  it('takes back sockets still waiting for their turn when a later change brings their platform back', async () => {
    const sockets = localSockets(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`a${i}`, 'A'])));
    const table = new Map([['A', true]]);
    const m = membership(table);
    // One a second: the first socket goes at once, the others are still waiting when the flip back arrives.
    const pacer = new HandoverPacer({ ratePerSecond: 1 });
    const handover = new SocketHandover({ sockets, side: 'primary', membership: m, pacer, logger: quiet, settleMs: 60_000 });
    started.push(handover);
    await handover.handle(flipOf('A', 'in'));
    expect(pacer.pending).toBeGreaterThanOrEqual(19);
    table.set('A', false);
    await handover.handle(flipOf('A', 'out'));
    expect(pacer.pending).toBe(0);
    expect(sockets.notices.size).toBeLessThanOrEqual(1);
  });

  it('looks again after settleMs: a socket that joined just after the first look still moves', async () => {
    const sockets = localSockets({ a1: 'A' });
    const { handover } = handoverOf('primary', sockets, new Map([['A', true]]), 50);
    await handover.handle(flipOf('A', 'in'));
    await until(() => sockets.notices.has('a1'));
    // Routed by the edge just before the change, joined here just after the first look.
    sockets.live.set('late', 'A');
    await until(() => sockets.notices.has('late'));
  });
});
