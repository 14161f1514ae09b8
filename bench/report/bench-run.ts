import type { EdgeLogCounts } from '../load/bench-topology.js';
import type { ColdBurstResult } from '../load/cold-burst.js';
import type { FlipLoadResult } from '../load/flip-load.js';
import type { CellResult } from '../load/measure-cell.js';
import type { PathCost } from '../load/path-costs.js';
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
  /** 1-minute load average when the run started and ended (other work on a shared machine shows up here). */
  loadAverage: { start: number; end: number };
}
