import type { Pool } from 'pg';
import type { FlowRecord, FlowRun, RunStatus } from './flow-run.js';

interface RunRow {
  id: string;
  flow_id: string;
  platform_id: string;
  status: RunStatus;
  queue: string;
  worker_version: string | null;
  result: unknown;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
}

const RUN_COLUMNS = 'id, flow_id, platform_id, status, queue, worker_version, result, error, created_at, started_at, finished_at';

function toRun(row: RunRow): FlowRun {
  return {
    id: row.id,
    flowId: row.flow_id,
    platformId: row.platform_id,
    status: row.status,
    queue: row.queue,
    workerVersion: row.worker_version,
    result: row.result,
    error: row.error,
    createdAt: row.created_at.toISOString(),
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
  };
}

/** Outcome of a worker's claim on a run before it executes it. */
export type ClaimOutcome =
  | { outcome: 'claimed' }
  | { outcome: 'moved'; queue: string }
  | { outcome: 'finished' }
  | { outcome: 'unknown' };

export interface FinishRunInput {
  status: 'SUCCEEDED' | 'FAILED';
  result: unknown;
  error: string | null;
  workerVersion: string;
  queue: string;
  /** Hash of the claim the result was reported under. */
  claimHash: string;
}

/** `flow_run` (and the flow lookup a webhook needs) over node-postgres. Row-level conditions make every write race-safe. */
export class FlowRunRepository {
  constructor(private readonly pool: Pool) {}

  /** The flow with its platform and definition, or null for an unknown flow. */
  async findFlow(flowId: string): Promise<FlowRecord | null> {
    const { rows } = await this.pool.query<{ id: string; platform_id: string; definition: unknown }>(
      'SELECT f.id, p.platform_id, f.definition FROM flow f JOIN project p ON p.id = f.project_id WHERE f.id = $1',
      [flowId],
    );
    const row = rows[0];
    return row === undefined ? null : { flowId: row.id, platformId: row.platform_id, definition: row.definition };
  }

  /** Replaces the definition of a flow of `platformId`; false when that platform has no such flow. */
  async saveFlowDefinition(flowId: string, platformId: string, definition: unknown): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE flow f SET definition = $3 FROM project p WHERE f.id = $1 AND p.id = f.project_id AND p.platform_id = $2`,
      [flowId, platformId, definition === null ? null : JSON.stringify(definition)],
    );
    return result.rowCount === 1;
  }

  /** Records a new QUEUED run on `queue`. */
  async insertRun(run: { id: string; flowId: string; platformId: string; queue: string; payload: unknown }): Promise<void> {
    await this.pool.query(
      `INSERT INTO flow_run (id, flow_id, platform_id, status, queue, payload) VALUES ($1, $2, $3, 'QUEUED', $4, $5)`,
      [run.id, run.flowId, run.platformId, run.queue, JSON.stringify(run.payload ?? null)],
    );
  }

  /** Forgets a run whose job could not be enqueued (the webhook failed, so the caller retries it). */
  async deleteQueuedRun(id: string): Promise<void> {
    await this.pool.query(`DELETE FROM flow_run WHERE id = $1 AND status = 'QUEUED'`, [id]);
  }

  /** One run, or null. */
  async getRun(id: string): Promise<FlowRun | null> {
    const { rows } = await this.pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM flow_run WHERE id = $1`, [id]);
    const row = rows[0];
    return row === undefined ? null : toRun(row);
  }

  /**
   * A worker of `queue` takes the run under a new claim (stored as its hash). Succeeds only while the run belongs to that queue and is not finished, so a
   * run moved to the other fleet (or already done) is never executed by a stale copy of its job.
   */
  async claimRun(id: string, queue: string, workerVersion: string, claimHash: string): Promise<ClaimOutcome> {
    // Every claim replaces the previous one: a worker that lost its job (killed, lock expired) can no longer report it.
    const claimed = await this.pool.query(
      `UPDATE flow_run SET status = 'RUNNING', worker_version = $3, claim_hash = $4, started_at = COALESCE(started_at, now()),
         updated_at = now()
       WHERE id = $1 AND queue = $2 AND status IN ('QUEUED', 'RUNNING') RETURNING id`,
      [id, queue, workerVersion, claimHash],
    );
    if (claimed.rowCount === 1) return { outcome: 'claimed' };
    const { rows } = await this.pool.query<{ status: RunStatus; queue: string }>('SELECT status, queue FROM flow_run WHERE id = $1', [id]);
    const row = rows[0];
    if (row === undefined) return { outcome: 'unknown' };
    if (row.status === 'SUCCEEDED' || row.status === 'FAILED') return { outcome: 'finished' };
    return { outcome: 'moved', queue: row.queue };
  }

  /**
   * Hands a run back under its current claim (its job returns to a queue, and only QUEUED runs are moved by a flip);
   * false when the run is not RUNNING under that claim.
   */
  async requeueRun(id: string, claimHash: string): Promise<boolean> {
    const result = await this.pool.query(`UPDATE flow_run SET status = 'QUEUED', updated_at = now() WHERE id = $1 AND status = 'RUNNING' AND claim_hash = $2`, [
      id,
      claimHash,
    ]);
    return result.rowCount === 1;
  }

  /** Points an unfinished run at another queue (a worker re-routing a job it holds). */
  async rerouteRun(id: string, queue: string): Promise<boolean> {
    const result = await this.pool.query(
      `UPDATE flow_run SET queue = $2, updated_at = now() WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
      [id, queue],
    );
    return result.rowCount === 1;
  }

  /**
   * Points the still-QUEUED runs among `ids` at `queue` and returns those ids. A run a worker claimed meanwhile is
   * left where it is (the row lock orders this against `claimRun`), so it cannot run on both fleets.
   */
  async moveQueuedRuns(ids: readonly string[], queue: string): Promise<string[]> {
    if (ids.length === 0) return [];
    const { rows } = await this.pool.query<{ id: string }>(
      `UPDATE flow_run SET queue = $2, updated_at = now() WHERE id = ANY($1::text[]) AND status = 'QUEUED' RETURNING id`,
      [[...ids], queue],
    );
    return rows.map((r) => r.id);
  }

  /** True while the run is unfinished and its current claim has this hash. */
  async claimHolds(id: string, claimHash: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `SELECT 1 FROM flow_run WHERE id = $1 AND claim_hash = $2 AND status IN ('QUEUED', 'RUNNING')`,
      [id, claimHash],
    );
    return rowCount === 1;
  }

  /**
   * Records the outcome once, if the claim is still the run's current one; returns the finished run, or null for a
   * duplicate report or a claim that was replaced meanwhile.
   */
  async finishRun(id: string, input: FinishRunInput): Promise<FlowRun | null> {
    const { rows } = await this.pool.query<RunRow>(
      `UPDATE flow_run SET status = $2, result = $3, error = $4, worker_version = $5, queue = $6,
         finished_at = now(), updated_at = now()
       WHERE id = $1 AND status NOT IN ('SUCCEEDED', 'FAILED') AND claim_hash = $7 RETURNING ${RUN_COLUMNS}`,
      [id, input.status, JSON.stringify(input.result ?? null), input.error, input.workerVersion, input.queue, input.claimHash],
    );
    const row = rows[0];
    return row === undefined ? null : toRun(row);
  }

  /** Deletes finished runs older than `days`; returns how many. */
  async purgeFinishedBefore(days: number): Promise<number> {
    const result = await this.pool.query(
      `DELETE FROM flow_run WHERE finished_at IS NOT NULL AND finished_at < now() - make_interval(days => $1)`,
      [days],
    );
    return result.rowCount ?? 0;
  }
}
