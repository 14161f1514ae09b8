import type { EdgeLogCounts } from '../load/bench-topology.js';
import type { ColdBurstResult } from '../load/cold-burst.js';
import type { FlipLoadResult } from '../load/flip-load.js';
import type { CellResult } from '../load/measure-cell.js';
import type { BaselineBuild } from '../load/baseline-edge.js';
import type { CohortReloadHeap } from '../load/isolate-heap.js';
import type { HealthCountingCost, PauseStaleness, UnknownIdCost } from '../load/operator-checks.js';
import type { JudgeCost } from '../judge/measure-judge.js';
import type { InterleavedRatio } from '../load/interleaved-ratio.js';
import type { SimulationFigure } from '../judge/simulation-figures.js';
import type { PathCost } from '../load/path-costs.js';
import type { FlipMemoryResult } from '../flip-memory/measure-flip-memory.js';
import type { StepMoveResult } from '../flip-memory/measure-step-move.js';
import type { HandoverResult } from '../handover/measure-handover.js';
import type { ProfileResult } from '../profile/profile-step.js';
import type { StreamingRow } from '../streaming/measure-streaming.js';
import type { MachineInfo } from './machine-info.js';

/** What `npm run bench` is configured to do. */
export interface BenchConfig {
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  connections: number[];
  cohorts: number[];
  streamMiB: number;
  pathRequests: number;
  coldSeconds: number;
  coldConnections: number;
  flipSeconds: number;
  heapReloads: number;
  pauseRounds: number;
  healthRate: number;
  healthSeconds: number;
  /** Distinct platforms the signal-recording measurement spreads its requests over. */
  healthPlatforms: number;
  /** Active platforms (one minute each) in the judge's cost measurement. */
  judgePlatforms: number;
  judgeTicks: number;
  unknownIds: number;
  profileSeconds: number;
  /** Pairs of interleaved cells per ratio goal, and each cell's length. */
  ratioPairs: number;
  ratioCellSeconds: number;
  flipMemoryJobs: number;
  flipMemoryJobKiB: number;
  stepMovePlatforms: number;
  stepMoveJobsPerPlatform: number;
}

export interface BenchRun {
  startedAt: Date;
  runtimeSeconds: number;
  config: BenchConfig;
  machine: MachineInfo;
  cells: CellResult[];
  cold: ColdBurstResult[];
  flipLoads: FlipLoadResult[];
  paths: PathCost[];
  streaming: StreamingRow[];
  edgeLog: EdgeLogCounts;
  /** The earlier build measured side by side (cells with target `edge-before`), or null. */
  baseline: Pick<BaselineBuild, 'ref' | 'sha' | 'subject'> | null;
  profile: ProfileResult;
  heap: CohortReloadHeap;
  pause: PauseStaleness;
  healthCounting: HealthCountingCost;
  /** Every ratio goal measured from interleaved short cells (median and IQR). */
  ratios: InterleavedRatio[];
  judgeCost: JudgeCost;
  simulation: { figures: SimulationFigure[]; seconds: number };
  unknownIds: UnknownIdCost;
  /** Which of the load's platforms the 50% rollout put on the canary (the bucket rule decides). */
  rolloutCanaryShare: number | null;
  flipMemory: FlipMemoryResult;
  /** A rollout step moving a large backlog of many platforms (the batched mover). */
  stepMove: StepMoveResult;
  /** Live sockets following a flip and a pause. */
  handover: HandoverResult;
  /** 1-minute load average when the run started and ended (other work on a shared machine shows up here). */
  loadAverage: { start: number; end: number };
}
