import { fixed, int, table } from '../report/format.js';
import { STEP_MOVE_GOAL } from './measure-step-move.js';
import type { StepMoveResult } from './measure-step-move.js';

function mib(n: number | null): string {
  return n === null || Number.isNaN(n) ? '—' : `${int(n)} MiB`;
}

function seconds(n: number): string {
  return Number.isNaN(n) ? '—' : `${fixed(n, 1)} s`;
}

function jobSize(kiB: number): string {
  return kiB >= 1024 ? `${fixed(kiB / 1024, kiB % 1024 === 0 ? 0 : 2)} MiB` : `${fixed(kiB, kiB % 1 === 0 ? 0 : 1)} KiB`;
}

/** A markdown section: one table of a rollout step's move (time, the moving app's memory, job accounting), and how it was measured. */
export function renderStepMove(r: StepMoveResult): string {
  const header = ['Backlog', 'Page size', 'Seeding', 'Move', 'All arrived', 'Rebalance', 'App RSS before', 'App RSS peak', 'Growth', 'Moved', 'Lost', 'Duplicated', 'Left', 'Redis peak'];
  const row = [
    `${int(r.platforms)} platforms × ${int(r.jobsPerPlatform)} × ${jobSize(r.jobKiB)} (${int(r.jobs)} jobs, ${int(r.backlogMiB)} MiB)`,
    int(r.pageSize),
    seconds(r.seedSeconds),
    seconds(r.moveSeconds),
    seconds(r.arrivedSeconds),
    seconds(r.rebalanceSeconds),
    mib(r.rssBeforeMiB),
    mib(r.rssPeakMiB),
    `+${int(r.rssGrowthMiB)} MiB`,
    int(r.moved),
    int(r.lost),
    int(r.duplicated),
    int(r.leftOnSource),
    mib(r.redisUsedMiBPeak),
  ];
  const moves = r.sweeps.filter((s) => s.from === 'workerJobs');
  const states = r.waitingJobs === r.jobs ? 'all waiting' : r.waitingJobs === 0 ? 'all delayed' : `${int(r.waitingJobs)} waiting, the rest delayed`;
  const move = moves.find((s) => s.app === r.handler);
  const anomalies = [
    moves.length > 1 ? `${moves.length} sweeps of workerJobs ran (${moves.map((m) => `${m.app} moved ${int(m.moved)}`).join(', ')})` : '',
    r.corrupted > 0 ? `${int(r.corrupted)} moved jobs have altered data` : '',
    r.undelayed > 0 ? `${int(r.undelayed)} moved jobs lost their delay` : '',
  ].filter((s) => s !== '');
  const goal =
    `Goal: the move within ${STEP_MOVE_GOAL.seconds} s and +${STEP_MOVE_GOAL.rssGrowthMiB} MiB, 0 lost, 0 duplicated, none left — ` +
    `**${r.goalMet ? 'met' : 'missed'}** (${seconds(r.moveSeconds)}, +${int(r.rssGrowthMiB)} MiB, ${int(r.lost)} lost, ${int(r.duplicated)} duplicated).`;
  const sentence =
    `${int(r.platforms)} platforms following the rollout (at 0%) had ${int(r.jobsPerPlatform)} jobs each on \`workerJobs\` ` +
    `(${states}; QUEUED runs, no workers) in a Redis database of their own; the rollout was set to 100% ` +
    `through the edge's admin route, and the app that handled the change (${r.handler}) moved them` +
    (move === undefined ? '' : ` in ${int(move.pages)} pages and ${int(move.batches)} batches, looking up ${int(move.platforms)} platforms`) +
    `. Move runs from the request to its 'fleet rebalanced' line for \`workerJobs\`; All arrived is the first poll (every 100 ms) that found every ` +
    `job on \`canaryWorkerJobs\`; Rebalance ends at 'flip handled', after the sweep of \`canaryWorkerJobs\` (which reads every job there and moves none back). ` +
    `RSS was read from /proc every 50 ms and from VmHWM (reset before the request) until 'flip handled' (the other app: +${int(r.otherAppGrowthMiB)} MiB); ` +
    `Moved, Lost, Duplicated and Left count job ids on both queues afterwards; Redis peak is the server's \`used_memory\` ` +
    `(${mib(r.redisUsedMiBBefore)} before seeding)${anomalies.length === 0 ? '' : ` — note: ${anomalies.join('; ')}`}.`;
  return [`### Step move: ${int(r.platforms)} platforms, ${int(r.jobs)} queued jobs`, '', table(header, [row]), '', goal, '', sentence].join('\n');
}
