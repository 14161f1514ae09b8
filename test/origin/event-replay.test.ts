import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import type { RedisOptions } from 'ioredis';
import { io as connectSocket } from 'socket.io-client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPrincipalJwt } from '../../dev/seed/seed-data.js';
import type { Logger } from '../../origin/logger.js';
import { CANARY_HELLO, FLOW_RUN_FINISHED } from '../../origin/realtime/client-events.js';
import type { CanaryHello, FlowRunFinishedEvent } from '../../origin/realtime/client-events.js';
import { EventReplay, REPLAY_REORDER_MARGIN_MS, replayStreamKey } from '../../origin/realtime/event-replay.js';
import { createSocketServer } from '../../origin/realtime/socket-server.js';
import type { RealtimeHub } from '../../origin/realtime/socket-server.js';
import { compareStreamIds, parseStreamId } from '../../origin/realtime/stream-id.js';
import type { FlowRun } from '../../origin/runs/flow-run.js';
import { reserveRedisDb } from '../../testkit/test-redis.js';
import type { ReservedRedisDb } from '../../testkit/test-redis.js';

// The application replay on one real Socket.IO server and a real Redis: what a socket that reconnects with
// `lastEventId` is sent, and what it can never be sent. The handover end to end is test/origin/socket-handover.test.ts.

const SECRET = 'event-replay-test-secret';
const KEY = `socket.io-replay-${crypto.randomUUID().slice(0, 8)}`;

interface Captured {
  logs: { level: string; msg: string; fields: Record<string, unknown> }[];
  logger: Logger;
}

function capturingLogger(): Captured {
  const logs: Captured['logs'] = [];
  const logger: Logger = {
    info: (msg, fields = {}) => void logs.push({ level: 'info', msg, fields }),
    warn: (msg, fields = {}) => void logs.push({ level: 'warn', msg, fields }),
    error: (msg, fields = {}) => void logs.push({ level: 'error', msg, fields }),
    child: () => logger,
  };
  return { logs, logger };
}

function run(platformId: string, n: number): FlowRun {
  return {
    id: `run-${platformId}-${n}`,
    flowId: `flow-${platformId}`,
    platformId,
    status: 'SUCCEEDED',
    queue: 'workerJobs',
    workerVersion: '1.0.0',
    result: null,
    error: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    finishedAt: null,
  };
}

/** A raw client (no dedupe, no following) that records what it receives; resolves once greeted. */
async function rawClient(url: string, auth: Record<string, unknown>): Promise<{ socket: Socket; hello: CanaryHello; events: FlowRunFinishedEvent[] }> {
  const socket = connectSocket(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
  const events: FlowRunFinishedEvent[] = [];
  socket.on(FLOW_RUN_FINISHED, (e: FlowRunFinishedEvent) => events.push(e));
  const hello = await new Promise<CanaryHello>((resolve, reject) => {
    socket.once(CANARY_HELLO, resolve);
    socket.once('connect_error', reject);
  });
  return { socket, hello, events };
}

/** Polls until `check` holds (events arrive asynchronously); fails after `timeoutMs`. */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the application replay', () => {
  let redisDb: ReservedRedisDb;
  const connections: Redis[] = [];
  let server: http.Server;
  let hub: RealtimeHub;
  let url: string;
  let redis: Redis;
  const captured = capturingLogger();
  const sockets: Socket[] = [];

  const connection = (options: RedisOptions = {}): Redis => {
    const c = new Redis(redisDb.url, { maxRetriesPerRequest: 1, ...options });
    connections.push(c);
    return c;
  };
  const client = async (platformId: string, extra: Record<string, unknown> = {}): ReturnType<typeof rawClient> => {
    const c = await rawClient(url, { token: await signPrincipalJwt(SECRET, platformId), ...extra });
    sockets.push(c.socket);
    return c;
  };

  beforeAll(async () => {
    redisDb = await reserveRedisDb();
    redis = connection();
    server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    hub = createSocketServer({
      httpServer: server,
      pubClient: connection(),
      subClient: connection(),
      key: KEY,
      jwtSecret: SECRET,
      version: '1.0.0',
      side: 'primary',
      // No reorder margin here, so "exclusive of lastEventId" is exact; the margin has a test of its own below.
      replay: new EventReplay({ redis: connection(), prefix: KEY, reorderMarginMs: 0 }),
      onRunFinished: () => undefined,
      logger: captured.logger,
    });
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    await hub?.close();
    await Promise.all(connections.map((c) => c.quit()));
    await redisDb?.close();
  });

  describe('lastEventId is client input: only a stream id is accepted', () => {
    it.each(['0-0', '1-0', '1700000000000-0', '1700000000000-42', '9007199254740991-9007199254740991'])('accepts %s', (id) => {
      expect(parseStreamId(id)).not.toBeNull();
    });
    it.each([
      '', '1', '1-', '-1', '01-0', '1-01', '1-1-1', '1e3-0', ' 1-0', '1-0 ', '+', '-', '$', '>', '(1-0', '1-*',
      '99999999999999999-0', '9007199254740992-0', '1-0\n', 'platform:x', '１-0',
    ])('refuses %j', (id) => {
      expect(parseStreamId(id)).toBeNull();
    });
    it.each([[17], [null], [undefined], [['1-0']], [{ ms: 1, seq: 0 }]])('refuses a non-string (%j)', (value) => {
      expect(parseStreamId(value)).toBeNull();
    });
  });

  it('appends each published event to its platform stream (bounded, expiring) and emits it with that id', async () => {
    const listener = await client('plat-a');
    expect(listener.hello).toEqual({ version: '1.0.0', side: 'primary', eventId: '0-0' });
    await hub.publishRunFinished(run('plat-a', 1));
    await until(() => listener.events.length === 1);
    const [event] = listener.events;
    const stream = (await redis.xrange(replayStreamKey(KEY, 'plat-a'), '-', '+')) as [string, string[]][];
    expect(stream).toHaveLength(1);
    expect(event).toEqual({ runId: 'run-plat-a-1', flowId: 'flow-plat-a', platformId: 'plat-a', status: 'SUCCEEDED', workerVersion: '1.0.0', eventId: stream[0]?.[0] });
    const ttl = await redis.ttl(replayStreamKey(KEY, 'plat-a'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600);
  });

  it('replays to a reconnecting socket exactly what came after its lastEventId, to that socket only', async () => {
    const stayer = await client('plat-b');
    for (let n = 1; n <= 3; n++) await hub.publishRunFinished(run('plat-b', n));
    await until(() => stayer.events.length === 3);
    const seen = stayer.events[0]?.eventId;
    // Published while "it" was away: a socket that left after the first event comes back naming it.
    const returning = await client('plat-b', { lastEventId: seen });
    await until(() => returning.events.length === 2);
    expect(returning.events.map((e) => e.runId)).toEqual(['run-plat-b-2', 'run-plat-b-3']);
    expect(returning.hello.eventId).toBe(stayer.events[2]?.eventId);
    // A replay is the returning socket's alone: the one that never left saw each event once.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stayer.events.map((e) => e.runId)).toEqual(['run-plat-b-1', 'run-plat-b-2', 'run-plat-b-3']);
    expect(captured.logs.filter((l) => l.msg === 'socket replayed' && l.fields.platformId === 'plat-b')).toEqual([
      { level: 'info', msg: 'socket replayed', fields: { platformId: 'plat-b', events: 2 } },
    ]);
  });

  it("never sends another platform's events, whatever position the client names", async () => {
    for (let n = 1; n <= 3; n++) await hub.publishRunFinished(run('plat-secret', n));
    const [first] = (await redis.xrange(replayStreamKey(KEY, 'plat-secret'), '-', '+')) as [string, string[]][];
    await hub.publishRunFinished(run('plat-own', 1));
    // The platform comes from the verified token; positions from the other platform's stream, or its very start, only
    // select within the client's own stream.
    for (const lastEventId of [first?.[0], '0-0']) {
      const intruder = await client('plat-own', { lastEventId, platformId: 'plat-secret', room: 'platform:plat-secret' });
      await until(() => intruder.events.length >= 1);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(intruder.events.map((e) => e.platformId)).toEqual(['plat-own']);
    }
  });

  it('ignores a lastEventId that is not a stream id (connected, greeted, nothing replayed)', async () => {
    await hub.publishRunFinished(run('plat-c', 1));
    for (const lastEventId of ['-', '+', '0', 'x-1', 12, { $gt: '0-0' }]) {
      const c = await client('plat-c', { lastEventId });
      expect(c.socket.connected).toBe(true);
      expect(c.hello.side).toBe('primary');
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(c.events).toEqual([]);
    }
    expect(captured.logs.filter((l) => l.msg === 'socket lastEventId ignored: not a stream id')).toHaveLength(6);
  });

  it('starts a replay one reorder margin before lastEventId: repeats a little, skips nothing', async () => {
    const replay = new EventReplay({ redis, prefix: `${KEY}-margin` });
    const ids: string[] = [];
    for (let n = 1; n <= 3; n++) ids.push(await replay.append({ ...run('plat-m', n), runId: `m${n}`, status: 'SUCCEEDED', workerVersion: null }));
    const last = parseStreamId(ids[2]);
    expect(last).not.toBeNull();
    if (last === null) return;
    // All three were appended within the margin of the last one: a client naming the last gets them again (it dedupes).
    expect((await replay.since('plat-m', last)).map((e) => e.runId)).toEqual(['m1', 'm2', 'm3']);
    const later = { ms: last.ms + REPLAY_REORDER_MARGIN_MS + 1, seq: 0 };
    expect(await replay.since('plat-m', later)).toEqual([]);
    const sorted = ids.map((id) => parseStreamId(id)).filter((id) => id !== null).sort(compareStreamIds);
    expect(sorted.map((id) => `${id.ms}-${id.seq}`)).toEqual(ids);
  });

  it('still emits an event (without eventId) when its replay stream cannot be written, and says so', async () => {
    const { logs, logger } = capturingLogger();
    const down = new Redis('redis://127.0.0.1:1', { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    down.on('error', () => undefined);
    const otherServer = http.createServer();
    await new Promise<void>((resolve) => otherServer.listen(0, '127.0.0.1', resolve));
    const otherHub = createSocketServer({
      httpServer: otherServer,
      pubClient: connection(),
      subClient: connection(),
      key: `${KEY}-down`,
      jwtSecret: SECRET,
      version: '1.0.0',
      side: 'canary',
      replay: new EventReplay({ redis: down, prefix: `${KEY}-down` }),
      onRunFinished: () => undefined,
      logger,
    });
    try {
      const c = await rawClient(`http://127.0.0.1:${(otherServer.address() as AddressInfo).port}`, { token: await signPrincipalJwt(SECRET, 'plat-d') });
      sockets.push(c.socket);
      expect(c.hello).toEqual({ version: '1.0.0', side: 'canary', eventId: null });
      await otherHub.publishRunFinished(run('plat-d', 1));
      await until(() => c.events.length === 1);
      expect(c.events[0]).not.toHaveProperty('eventId');
      expect(c.events[0]?.runId).toBe('run-plat-d-1');
      expect(logs.filter((l) => l.level === 'error' && l.msg.startsWith('replay append failed'))).toHaveLength(1);
    } finally {
      await otherHub.close();
      down.disconnect();
    }
  });
});
