import { fixed, int, ms, table } from '../report/format.js';
import { HANDOVER_GOAL } from './measure-handover.js';
import type { CpuUse, HandoverPhase, HandoverResult } from './measure-handover.js';

function seconds(n: number): string {
  return Number.isNaN(n) ? '—' : `${fixed(n, 1)} s`;
}

function cores(use: readonly CpuUse[], process: CpuUse['process']): string {
  const found = use.find((u) => u.process === process);
  return found === undefined || Number.isNaN(found.cores) ? '—' : fixed(found.cores, 2);
}

function cpuCell(phase: HandoverPhase, process: CpuUse['process']): string {
  const during = phase.cpu.find((u) => u.process === process);
  const extra = during === undefined ? '' : ` (${fixed(during.cpuSeconds, 1)} s)`;
  return `${cores(phase.cpu, process)}${extra} vs ${cores(phase.baselineCpu, process)}`;
}

/** A markdown section: one row per move (flip, pause) of live sockets, and how it was measured. */
export function renderHandover(r: HandoverResult): string {
  const header = [
    'Move',
    'Sockets',
    'Moved',
    '100% moved',
    'First notice',
    'Rate (busiest second)',
    'Reconnect p50 / p99 / max',
    'Other sockets reconnected',
    'Events lost (owed)',
    'Duplicates dropped',
    'CPU primary app',
    'CPU canary app',
    'CPU edge',
  ];
  const rows = r.phases.map((p) => [
    p.kind === 'flip' ? `flip ${int(p.platforms)} platform${p.platforms === 1 ? '' : 's'}` : `pause (${int(p.platforms)} canary platform${p.platforms === 1 ? '' : 's'})`,
    int(p.sockets),
    int(p.moved),
    seconds(p.moveSeconds),
    `${ms(p.firstNoticeSeconds * 1000)} ms`,
    `${fixed(p.observedRate, 1)}/s (${int(p.busiestSecond)})`,
    `${ms(p.reconnectP50Ms)} / ${ms(p.reconnectP99Ms)} / ${ms(p.reconnectMaxMs)} ms`,
    int(p.otherReconnected),
    `${int(p.eventsLost)} (${int(p.eventsExpected)})`,
    int(p.duplicatesDropped),
    cpuCell(p, 'primary app'),
    cpuCell(p, 'canary app'),
    cpuCell(p, 'edge (workerd)'),
  ]);
  const goal =
    `Goal: every socket of a moved platform on the other side, 0 other sockets reconnected, 0 events lost, no second with more than ` +
    `SOCKET_HANDOVER_RATE (${int(r.rate)}) handovers (+${fixed((HANDOVER_GOAL.rateSlack - 1) * 100, 0)}% for the clients' receive jitter) — ` +
    `**${r.goalMet ? 'met' : 'missed'}**.`;
  const sentence =
    `${int(r.clients)} Socket.IO clients (${int(r.perPlatform)} per platform over ${int(r.platforms)} platforms, ${int(r.canaryPlatforms)} pinned to the canary) ` +
    `connected through the edge (workerd) in ${seconds(r.connectSeconds)}, routed by their principal's \`authorization\` header, to a primary and a canary app ` +
    `with SOCKET_HANDOVER_RATE ${int(r.rate)}. Flip: ${int(r.flippedPlatforms)} primary platforms flipped to the canary at once (one admin request each); ` +
    `pause: canary routing paused, which moves every canary socket. 100% moved runs from the admin request to the last moving client greeted ` +
    `(\`canary:hello\`) by the app of the other side; a reconnect runs from a client's \`canary:reconnect\` to that greeting. Throughout each phase ` +
    `the moving platforms' webhooks ran at ${int(r.webhookRate)}/s through the edge and a worker per fleet; Events lost counts the published runs ` +
    `some client of their platform never received (owed: runs × clients of their platform), after dedupe by \`eventId\`, a minute after the move. ` +
    `CPU is cores busy (utime + stime from /proc over wall time) during the move, and vs the same over the ${int(r.baselineSeconds)} s before it ` +
    `(same webhooks, nothing moving); the clients, the local Upstash endpoint and the bench share the machine with them.`;
  return [`### Live sockets follow a move: ${int(r.clients)} clients`, '', table(header, rows), '', goal, '', sentence].join('\n');
}
