import { childPidsByName } from '../../dev/process/process-memory.js';
import { cpuSeconds } from '../../dev/process/process-cpu.js';
import { ORIGIN_ENV } from '../../origin/config.js';
import { startHandoverTopology, startWebhookLoad } from '../../testkit/handover-topology.js';
import type { HandoverPlatform, HandoverTopology } from '../../testkit/handover-topology.js';
import { busiestWindow, connectFleet } from '../../testkit/socket-fleet.js';
import type { FleetClient, SocketFleet } from '../../testkit/socket-fleet.js';
import type { CleanupStack } from '../support/cleanup-stack.js';
import { quantileSorted } from '../support/stats.js';

/**
 * What a handover must do: every socket of a moved platform moves, no other socket does, no event is lost, and no
 * second holds more handovers than the rate (as the clients saw them: 10% over it for their own receive jitter).
 */
export const HANDOVER_GOAL = { otherReconnected: 0, eventsLost: 0, rateSlack: 1.1 } as const;

/** CPU one process used over a window. */
export interface CpuUse {
  process: 'primary app' | 'canary app' | 'edge (workerd)';
  cpuSeconds: number;
  /** cpuSeconds over the window's wall time: 1 is one core busy all along. */
  cores: number;
}

/** One move of live sockets, as the clients and the processes saw it. */
export interface HandoverPhase {
  /** `flip`: one admin request per platform to the canary; `pause`: canary routing paused (every canary socket moves). */
  kind: 'flip' | 'pause';
  /** Platforms whose sockets had to move. */
  platforms: number;
  /** Sockets that had to move. */
  sockets: number;
  /** Of those, the ones greeted by the app of the other side afterwards. */
  moved: number;
  /** From the admin request to the last moving socket greeted by the other app: the time to move 100%. */
  moveSeconds: number;
  /** From the admin request to the first `canary:reconnect` a client received. */
  firstNoticeSeconds: number;
  /** From the first notice to the last. */
  noticeSpreadSeconds: number;
  /** Notices per second over that spread. */
  observedRate: number;
  /** Most notices any one second held. */
  busiestSecond: number;
  /** From a client's `canary:reconnect` to its `canary:hello` from the other app. */
  reconnectP50Ms: number;
  reconnectP99Ms: number;
  reconnectMaxMs: number;
  /** Reconnect attempts refused on the way (each retried). */
  reconnectRetries: number;
  /** Sockets of platforms that did not move that reconnected anyway, or were lost: must be 0. */
  otherReconnected: number;
  /** Webhooks of the moving platforms posted (the baseline window and the move). */
  eventsPublished: number;
  /** Deliveries owed: each published event to each client of its platform. */
  eventsExpected: number;
  /** Owed deliveries that never came (after dedupe): must be 0. */
  eventsLost: number;
  /** Deliveries dropped by the clients as duplicates (replays overlapping live events: the contract is at least once). */
  duplicatesDropped: number;
  /** CPU over the move (from the request to the last socket greeted). */
  cpu: CpuUse[];
  /** CPU over the baseline window just before: the same webhooks, nothing moving. */
  baselineCpu: CpuUse[];
}

export interface HandoverResult {
  clients: number;
  platforms: number;
  perPlatform: number;
  /** Pinned to the canary from the start. */
  canaryPlatforms: number;
  flippedPlatforms: number;
  /** SOCKET_HANDOVER_RATE of both apps. */
  rate: number;
  /** Webhooks per second of the moving platforms during each phase. */
  webhookRate: number;
  baselineSeconds: number;
  /** Connecting every client through the edge. */
  connectSeconds: number;
  phases: HandoverPhase[];
  /** Every socket moved, no other socket reconnected, no event lost, in every phase. */
  goalMet: boolean;
}

export interface HandoverOptions {
  platforms: number;
  perPlatform: number;
  canaryPlatforms: number;
  flipPlatforms: number;
  /** SOCKET_HANDOVER_RATE; the app's default when omitted. */
  rate?: number;
  /** Default 10 a second. */
  webhookRate?: number;
  /** Default 5 s. */
  baselineSeconds?: number;
  log: (line: string) => void;
  /** The caller's cleanup stack, when it owns SIGINT/SIGTERM. */
  cleanup?: CleanupStack;
}

const LABEL = 'handover';

type CpuReading = Map<CpuUse['process'], number>;

function readCpu(topology: HandoverTopology): CpuReading {
  const edge = childPidsByName('workerd').reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  return new Map([
    ['primary app', cpuSeconds(topology.primary.process.pid)],
    ['canary app', cpuSeconds(topology.canary.process.pid)],
    ['edge (workerd)', edge],
  ]);
}

function cpuBetween(before: CpuReading, after: CpuReading, wallSeconds: number): CpuUse[] {
  return [...after].map(([process, end]) => {
    const used = end - (before.get(process) ?? Number.NaN);
    return { process, cpuSeconds: used, cores: used / wallSeconds };
  });
}

/** Polls until `check` holds or `timeoutMs` passed; true when it held. */
async function until(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return true;
}

interface PhaseSetup {
  kind: HandoverPhase['kind'];
  topology: HandoverTopology;
  fleet: SocketFleet;
  moving: FleetClient[];
  /** Platforms whose webhooks run during the phase (the moving ones). */
  eventPlatforms: HandoverPlatform[];
  act: () => Promise<void>;
  rate: number;
  webhookRate: number;
  baselineSeconds: number;
  log: (line: string) => void;
}

async function runPhase(setup: PhaseSetup): Promise<HandoverPhase> {
  const { topology, fleet, moving, log } = setup;
  const movingSet = new Set(moving);
  const handoversBefore = new Map(fleet.clients.map((c) => [c, c.client.handovers.length]));
  const idsBefore = new Map(fleet.clients.map((c) => [c, c.client.socket.id]));
  const published = new Map<string, string[]>();
  const load = startWebhookLoad(topology.edge.url, setup.eventPlatforms, setup.webhookRate, published);
  let cpu: CpuUse[];
  let baselineCpu: CpuUse[];
  let started: number;
  try {
    // The baseline: the same webhook load for a fixed window, nothing moving (a measurement window, not a wait).
    const baselineStart = performance.now();
    const cpuAtBaseline = readCpu(topology);
    await new Promise((resolve) => setTimeout(resolve, setup.baselineSeconds * 1000));
    const cpuAtMove = readCpu(topology);
    started = performance.now();
    baselineCpu = cpuBetween(cpuAtBaseline, cpuAtMove, (started - baselineStart) / 1000);
    log(`${LABEL}: ${setup.kind}: ${moving.length} sockets to move`);
    await setup.act();
    const timeoutMs = 60_000 + (moving.length / setup.rate) * 2_000;
    const everyMoved = await until(() => moving.every((c) => c.client.handovers.slice(handoversBefore.get(c) ?? 0).some((h) => h.connectedAt !== null)), timeoutMs);
    const cpuAtEnd = readCpu(topology);
    const ends = moving.map((c) => c.client.handovers.at(-1)?.connectedAt ?? Number.NaN).filter((t) => !Number.isNaN(t));
    cpu = cpuBetween(cpuAtMove, cpuAtEnd, ((everyMoved ? Math.max(...ends) : performance.now()) - started) / 1000);
    if (!everyMoved) log(`${LABEL}: ${setup.kind}: not every socket moved within ${Math.round(timeoutMs / 1000)} s`);
  } finally {
    const report = await load.stop();
    if (report.failed > 0) log(`${LABEL}: ${setup.kind}: ${report.failed} webhooks failed`);
  }

  // Every published run reaches every client of its platform (or is counted lost after a minute).
  const owed = (c: FleetClient): string[] => published.get(c.platformId) ?? [];
  const missing = (c: FleetClient): number => {
    const seen = new Set(c.client.events.map((e) => e.runId));
    return owed(c).filter((runId) => !seen.has(runId)).length;
  };
  const eventClients = fleet.of(published.keys());
  await until(() => eventClients.every((c) => missing(c) === 0), 60_000);

  const phaseHandovers = moving.flatMap((c) => c.client.handovers.slice(handoversBefore.get(c) ?? 0));
  const notices = phaseHandovers.map((h) => h.noticedAt).sort((a, b) => a - b);
  const connected = phaseHandovers.filter((h) => h.connectedAt !== null);
  const reconnects = connected.map((h) => (h.connectedAt ?? 0) - h.noticedAt).sort((a, b) => a - b);
  const spread = ((notices.at(-1) ?? Number.NaN) - (notices[0] ?? Number.NaN)) / 1000;
  const moved = moving.filter((c) => {
    const last = c.client.handovers.at(-1);
    return last !== undefined && last.connectedAt !== null && c.client.handovers.length > (handoversBefore.get(c) ?? 0) && last.to?.side === last.notice.side;
  }).length;
  const others = fleet.clients.filter((c) => !movingSet.has(c));
  return {
    kind: setup.kind,
    platforms: new Set(moving.map((c) => c.platformId)).size,
    sockets: moving.length,
    moved,
    moveSeconds: (Math.max(...connected.map((h) => h.connectedAt ?? Number.NaN)) - started) / 1000,
    firstNoticeSeconds: ((notices[0] ?? Number.NaN) - started) / 1000,
    noticeSpreadSeconds: spread,
    observedRate: notices.length > 1 ? (notices.length - 1) / spread : Number.NaN,
    busiestSecond: busiestWindow(notices),
    reconnectP50Ms: quantileSorted(reconnects, 0.5),
    reconnectP99Ms: quantileSorted(reconnects, 0.99),
    reconnectMaxMs: reconnects.at(-1) ?? Number.NaN,
    reconnectRetries: phaseHandovers.reduce((n, h) => n + h.retries, 0),
    otherReconnected: others.filter(
      (c) => c.client.handovers.length !== handoversBefore.get(c) || c.client.socket.id !== idsBefore.get(c) || !c.client.socket.connected,
    ).length,
    eventsPublished: [...published.values()].reduce((n, runs) => n + runs.length, 0),
    eventsExpected: eventClients.reduce((n, c) => n + owed(c).length, 0),
    eventsLost: eventClients.reduce((n, c) => n + missing(c), 0),
    duplicatesDropped: eventClients.reduce((n, c) => n + c.client.duplicates, 0),
    cpu,
    baselineCpu,
  };
}

/**
 * Connects `platforms × perPlatform` Socket.IO clients through the real edge to real apps (the first
 * `canaryPlatforms` pinned to the canary), flips `flipPlatforms` others to the canary, then pauses canary routing, and
 * measures each move: how long until 100% of the sockets concerned are on the other side, each socket's reconnect,
 * whether any other socket moved, whether any event published meanwhile was lost, and what the processes spent.
 */
export async function measureHandover(options: HandoverOptions): Promise<HandoverResult> {
  const { log } = options;
  if (options.canaryPlatforms + options.flipPlatforms > options.platforms) throw new Error('canaryPlatforms + flipPlatforms exceed platforms');
  const rate = options.rate ?? ORIGIN_ENV.SOCKET_HANDOVER_RATE.schema.parse(undefined);
  const webhookRate = options.webhookRate ?? 10;
  const baselineSeconds = options.baselineSeconds ?? 5;
  const clients = options.platforms * options.perPlatform;
  log(`${LABEL}: ${clients} clients over ${options.platforms} platforms, SOCKET_HANDOVER_RATE ${rate}: starting stores, apps, workers and edge`);
  const topology = await startHandoverTopology({ platforms: options.platforms, canaryPlatforms: options.canaryPlatforms, handoverRate: rate });
  let fleet: SocketFleet | undefined;
  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      await fleet?.close();
      await topology.close();
    })());
  options.cleanup?.add(`${LABEL} topology`, null, close);
  // Miniflare installs its own signal hook at start; the caller's stack must stay the one that handles a Ctrl-C.
  options.cleanup?.ownSignals();
  try {
    const connectStarted = performance.now();
    fleet = await connectFleet(topology.edge.url, topology.platforms, { perPlatform: options.perPlatform, concurrency: 50 });
    const connectSeconds = (performance.now() - connectStarted) / 1000;
    log(`${LABEL}: ${clients} clients connected through the edge in ${connectSeconds.toFixed(1)} s`);
    const pinned = topology.platforms.slice(0, options.canaryPlatforms);
    const flipped = topology.platforms.slice(options.canaryPlatforms, options.canaryPlatforms + options.flipPlatforms);
    const pinnedIds = new Set(pinned.map((p) => p.platformId));
    const misrouted = fleet.clients.filter((c) => c.client.app?.side !== (pinnedIds.has(c.platformId) ? 'canary' : 'primary'));
    if (misrouted.length > 0) throw new Error(`${misrouted.length} clients landed on the wrong side before anything moved`);

    const common = { topology, fleet, rate, webhookRate, baselineSeconds, log };
    const flip = await runPhase({
      ...common,
      kind: 'flip',
      moving: fleet.of(flipped.map((p) => p.platformId)),
      eventPlatforms: flipped,
      act: async () => {
        const answers = await Promise.all(flipped.map((p) => topology.edge.flip(p.platformId, true)));
        const refused = answers.filter((r) => r.status !== 200);
        if (refused.length > 0) throw new Error(`${refused.length} flips refused (${refused[0]?.status})`);
      },
    });
    log(`${LABEL}: flip: ${flip.moved}/${flip.sockets} moved in ${flip.moveSeconds.toFixed(1)} s, ${flip.eventsLost} events lost`);
    const onCanary = fleet.clients.filter((c) => c.client.app?.side === 'canary');
    const canaryIds = new Set(onCanary.map((c) => c.platformId));
    const pause = await runPhase({
      ...common,
      kind: 'pause',
      moving: onCanary,
      eventPlatforms: topology.platforms.filter((p) => canaryIds.has(p.platformId)),
      act: async () => {
        const res = await topology.edge.call('POST', '/v1/admin/canary/pause', { reason: 'handover bench' });
        if (res.status !== 200) throw new Error(`pause answered ${res.status}`);
      },
    });
    log(`${LABEL}: pause: ${pause.moved}/${pause.sockets} moved in ${pause.moveSeconds.toFixed(1)} s, ${pause.eventsLost} events lost`);
    const phases = [flip, pause];
    return {
      clients,
      platforms: options.platforms,
      perPlatform: options.perPlatform,
      canaryPlatforms: options.canaryPlatforms,
      flippedPlatforms: options.flipPlatforms,
      rate,
      webhookRate,
      baselineSeconds,
      connectSeconds,
      phases,
      goalMet: phases.every(
        (p) =>
          p.moved === p.sockets &&
          p.otherReconnected === HANDOVER_GOAL.otherReconnected &&
          p.eventsLost === HANDOVER_GOAL.eventsLost &&
          p.busiestSecond <= Math.ceil(rate * HANDOVER_GOAL.rateSlack),
      ),
    };
  } finally {
    await close();
  }
}
