import { connectRunEvents } from '../../testkit/origin-socket.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HANDOVER_VERSIONS, startHandoverTopology, startWebhookLoad } from '../../testkit/handover-topology.js';
import type { HandoverPlatform, HandoverTopology } from '../../testkit/handover-topology.js';
import { busiestWindow, connectFleet } from '../../testkit/socket-fleet.js';
import type { FleetClient, SocketFleet } from '../../testkit/socket-fleet.js';

// Live sockets follow a move, end to end: real primary and canary apps, the real edge (workerd) routing Socket.IO by
// the principal's `authorization` header, a worker per fleet, Redis and Postgres. 200 clients over 8 platforms (2
// pinned to the canary) connect through the edge; two platforms are flipped to the canary, then canary routing is
// paused. A low SOCKET_HANDOVER_RATE makes the pacing observable: 50 sockets take over a second to move.

const RATE = 40;
const PER_PLATFORM = 25;

/** The move as the clients saw it: each one's handover notices, in order. */
function noticeTimes(clients: readonly FleetClient[]): number[] {
  return clients.flatMap((c) => c.client.handovers.map((h) => h.noticedAt)).sort((a, b) => a - b);
}

describe('live sockets follow a flip or a pause (real apps, edge, workers, Redis, Postgres)', () => {
  let topology: HandoverTopology;
  let fleet: SocketFleet;
  let pinned: HandoverPlatform[];
  let flipped: HandoverPlatform[];
  /** Socket ids before anything moved: a socket that reconnected has another one. */
  const idsBefore = new Map<FleetClient, string | undefined>();
  /** Run ids of the webhooks posted for the flipped platforms while their sockets moved. */
  const published = new Map<string, string[]>();

  beforeAll(async () => {
    topology = await startHandoverTopology({ platforms: 8, canaryPlatforms: 2, handoverRate: RATE });
    pinned = topology.platforms.slice(0, 2);
    flipped = topology.platforms.slice(2, 4);
    fleet = await connectFleet(topology.edge.url, topology.platforms, { perPlatform: PER_PLATFORM });
    for (const c of fleet.clients) idsBefore.set(c, c.client.socket.id);
  });

  afterAll(async () => {
    await fleet?.close();
    await topology?.close();
  });

  const ids = (ps: readonly HandoverPlatform[]): string[] => ps.map((p) => p.platformId);
  const sideOf = (c: FleetClient): string | undefined => c.client.app?.side;

  it('routes each socket through the edge to the side its platform is on', () => {
    expect(fleet.clients).toHaveLength(8 * PER_PLATFORM);
    expect(fleet.of(ids(pinned)).map(sideOf)).toEqual(Array(2 * PER_PLATFORM).fill('canary'));
    expect(fleet.except(ids(pinned)).map(sideOf)).toEqual(Array(6 * PER_PLATFORM).fill('primary'));
  });

  it('moves every socket of two flipped platforms to the canary, at most SOCKET_HANDOVER_RATE a second, and no other socket', async () => {
    const moving = fleet.of(ids(flipped));
    // Webhooks of the moving platforms all through the move (30 a second), so their rooms get events while their
    // sockets are away; their runs finish on whichever fleet the platform is on by then.
    const load = startWebhookLoad(topology.edge.url, flipped, 30, published);
    // A tester's socket held on the primary by an override for one of them: a flip is not its to follow.
    const tested = flipped[0] as HandoverPlatform;
    const minted = (await (await topology.edge.call('POST', '/v1/admin/canary/overrides', { target: 'primary', ttlSeconds: 3600, platformId: tested.platformId })).json()) as { token: string };
    const tester = await connectRunEvents(topology.edge.url, tested.token, { headers: { 'x-canary-override': minted.token } });
    try {
      for (const p of flipped) expect((await topology.edge.flip(p.platformId, true)).status).toBe(200);
      await Promise.all(moving.map((c) => c.client.waitForHandovers(1, 30_000)));
      expect(tester.handovers).toEqual([]);
      expect(tester.app?.side).toBe('primary');
      expect(tester.socket.connected).toBe(true);
    } finally {
      await tester.close();
      const report = await load.stop();
      expect(report.failed).toBe(0);
    }

    for (const c of moving) {
      expect(c.client.handovers).toHaveLength(1);
      expect(c.client.handovers[0]).toMatchObject({
        notice: { reason: 'membership-changed', side: 'canary' },
        from: { side: 'primary', version: HANDOVER_VERSIONS.primary },
        to: { side: 'canary', version: HANDOVER_VERSIONS.canary },
      });
      expect(sideOf(c)).toBe('canary');
    }
    // Paced: 50 notices at most RATE a second take at least 49/RATE s; no second holds many more than RATE (the
    // clients' receive times add their own jitter to the app's pacing, so a quarter of slack, and nothing finer).
    const times = noticeTimes(moving);
    const reconnectMs = moving.map((c) => (c.client.handovers[0]?.connectedAt ?? Number.NaN) - (c.client.handovers[0]?.noticedAt ?? 0)).sort((a, b) => a - b);
    console.log(
      `flip handover: ${times.length} sockets in ${(((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000).toFixed(2)} s at rate ${RATE}, ` +
        `busiest second ${busiestWindow(times)}, reconnect median ${reconnectMs[Math.floor(reconnectMs.length / 2)]?.toFixed(0)} ms, max ${reconnectMs.at(-1)?.toFixed(0)} ms`,
    );
    expect(times).toHaveLength(2 * PER_PLATFORM);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(((times.length - 1) * 1000) / RATE - 1000 / RATE);
    expect(busiestWindow(times)).toBeLessThanOrEqual(RATE * 1.25);
    // Nobody else moved: same socket, same app, no notice.
    for (const c of fleet.except(ids(flipped))) {
      expect(c.client.handovers).toEqual([]);
      expect(c.client.socket.id).toBe(idsBefore.get(c));
      expect(c.client.socket.connected).toBe(true);
    }
    // The primary's one line per batch (written as its last socket went; read here once it arrived).
    for (const p of flipped) {
      const line = await topology.primary.process.waitForLog((l) => l.msg === 'socket handover' && l.pass === 'change' && l.platformId === p.platformId);
      expect(line).toMatchObject({ side: 'primary', sockets: PER_PLATFORM, scheduled: PER_PLATFORM, handedOver: PER_PLATFORM, gone: 0 });
    }
  });

  it('delivers every event of a moving platform published during its move to each of its clients, exactly once after dedupe', async () => {
    for (const p of flipped) {
      const runs = published.get(p.platformId) ?? [];
      expect(runs.length).toBeGreaterThan(5);
      for (const c of fleet.of([p.platformId])) {
        await Promise.all(runs.map((runId) => c.client.waitFor(runId, 15_000)));
        const seen = c.client.events.filter((e) => e.platformId === p.platformId).map((e) => e.runId);
        expect([...seen].sort()).toEqual([...runs].sort());
        expect(c.client.events.every((e) => e.eventId !== undefined)).toBe(true);
      }
    }
    const moving = fleet.of(ids(flipped));
    console.log(
      `flip handover events: ${[...published.values()].flat().length} published during the move, ` +
        `${moving.reduce((n, c) => n + c.client.deliveries, 0)} deliveries to ${moving.length} clients, ${moving.reduce((n, c) => n + c.client.duplicates, 0)} duplicates dropped`,
    );
    // No other platform's client got any of them.
    for (const c of fleet.except(ids(flipped))) expect(c.client.events).toEqual([]);
  });

  it('moves every canary socket to the primary on a pause, and no primary socket', async () => {
    const onCanary = fleet.clients.filter((c) => sideOf(c) === 'canary');
    expect(onCanary).toHaveLength(4 * PER_PLATFORM);
    const before = new Map(fleet.clients.map((c) => [c, c.client.handovers.length]));
    const paused = await topology.edge.call('POST', '/v1/admin/canary/pause', { reason: 'handover drill' });
    expect(await paused.json()).toEqual({ paused: true });
    await Promise.all(onCanary.map((c) => c.client.waitForHandovers((before.get(c) ?? 0) + 1, 30_000)));

    for (const c of onCanary) {
      expect(c.client.handovers.at(-1)).toMatchObject({ notice: { side: 'primary' }, from: { side: 'canary' }, to: { side: 'primary' } });
      expect(sideOf(c)).toBe('primary');
    }
    const times = onCanary.map((c) => c.client.handovers.at(-1)?.noticedAt ?? 0).sort((a, b) => a - b);
    console.log(`pause handover: ${times.length} sockets in ${(((times.at(-1) ?? 0) - (times[0] ?? 0)) / 1000).toFixed(2)} s at rate ${RATE}, busiest second ${busiestWindow(times)}`);
    expect((times.at(-1) ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(((times.length - 1) * 1000) / RATE - 1000 / RATE);
    expect(busiestWindow(times)).toBeLessThanOrEqual(RATE * 1.25);
    for (const c of fleet.clients.filter((x) => !onCanary.includes(x))) {
      expect(c.client.handovers).toHaveLength(before.get(c) ?? 0);
      expect(c.client.socket.connected).toBe(true);
    }
    const line = await topology.canary.process.waitForLog((l) => l.msg === 'socket handover' && l.scope === 'all' && l.pass === 'change');
    expect(line).toMatchObject({ sockets: 4 * PER_PLATFORM, scheduled: 4 * PER_PLATFORM, handedOver: 4 * PER_PLATFORM, gone: 0 });
  });
});
