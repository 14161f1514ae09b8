import { explicitChoiceSql } from '../membership/sql.js';

/** Audit actions of release plans (automatic ones by actor `plan`). */
export const PLAN_ACTIONS = ['plan-start', 'plan-step', 'plan-approval', 'plan-approve', 'plan-promote', 'plan-hold', 'plan-resume', 'plan-abort', 'plan-complete'] as const;
export type PlanAction = (typeof PLAN_ACTIONS)[number];

const PLAN_COLUMNS = `id, state, steps, max_bake_seconds, current_step, step_applied, step_started_at, bake_ends_at, applied_basis_points,
  rollout_before, hold_reason, verdicts, version, started_at, started_by, updated_at, ended_at`;

/**
 * SQL of release plans. Like the operator plane's (core/membership/control-sql.ts), every transition is one statement
 * whose CTEs write the plan, the rollout it sets and its audit entry together; a plan changes only from the version it
 * was read at (a tick and an operator's verb never overwrite each other).
 */
export const PLAN_SQL = {
  /**
   * $1 steps (jsonb), $2 max bake seconds, $3 actor, $4 reason. Starts a plan unless one is active: the unique index on
   * `active` makes exactly one of two concurrent starts insert (the other gets no row).
   */
  start: `WITH r AS (SELECT basis_points FROM canary_rollout WHERE id = 1),
    created AS (
      INSERT INTO canary_plan (state, active, steps, max_bake_seconds, rollout_before, started_by)
      SELECT 'running', true, $1::jsonb, $2, r.basis_points, $3 FROM r
      ON CONFLICT (active) WHERE active DO NOTHING
      RETURNING ${PLAN_COLUMNS}),
    audit AS (
      INSERT INTO canary_audit (actor, action, after, reason)
      SELECT $3, 'plan-start', jsonb_build_object('plan', c.id, 'steps', c.steps, 'maxBakeSeconds', c.max_bake_seconds, 'rolloutBefore', c.rollout_before / 100.0), $4
      FROM created c RETURNING id)
    SELECT c.*, (SELECT id FROM audit) AS audit_id FROM created c`,

  /** The latest plan (finished ones included). */
  current: `SELECT ${PLAN_COLUMNS} FROM canary_plan ORDER BY id DESC LIMIT 1`,

  /**
   * $1 id, $2 version read, $3 state, $4 current step, $5 step applied, $6 step started at, $7 bake ends at (ISO or
   * null), $8 applied basis points, $9 hold reason, $10 basis points to set the rollout to (null: leave it), $11 actor,
   * $12 action, $13 reason, $14 more for the audit entry's `after` (jsonb), $15 verdicts (jsonb).
   */
  transition: `WITH changed AS (
      UPDATE canary_plan SET state = $3, active = CASE WHEN $3 IN ('running', 'held') THEN true END,
        current_step = $4, step_applied = $5, step_started_at = $6::timestamptz, bake_ends_at = $7::timestamptz,
        applied_basis_points = $8, hold_reason = $9, verdicts = $15::jsonb, version = version + 1, updated_at = now(),
        ended_at = CASE WHEN $3 IN ('completed', 'aborted') THEN now() END
      WHERE id = $1 AND version = $2
      RETURNING ${PLAN_COLUMNS}),
    before AS (SELECT basis_points, paused FROM canary_rollout WHERE id = 1),
    rollout AS (
      UPDATE canary_rollout SET basis_points = $10, updated_at = now(), updated_by = $11
      WHERE id = 1 AND $10::int IS NOT NULL AND EXISTS (SELECT 1 FROM changed)
      RETURNING basis_points),
    audit AS (
      INSERT INTO canary_audit (actor, action, before, after, reason)
      SELECT $11, $12, (SELECT jsonb_build_object('percent', b.basis_points / 100.0, 'paused', b.paused) FROM before b),
        COALESCE($14::jsonb, '{}'::jsonb) || jsonb_build_object('plan', c.id, 'state', c.state, 'step', c.current_step,
          'percent', COALESCE((SELECT basis_points FROM rollout), (SELECT basis_points FROM before)) / 100.0), $13
      FROM changed c RETURNING id)
    SELECT c.*, (SELECT id FROM audit) AS audit_id, (SELECT basis_points FROM rollout) AS rollout_set FROM changed c`,

  /** $1 id, $2 verdicts (jsonb). A tick's verdict on a running plan: no transition, no audit entry, no version. */
  verdicts: `UPDATE canary_plan SET verdicts = $2::jsonb WHERE id = $1 AND state = 'running'`,

  /** Platforms with an explicit choice (pinned in or kept out): a rollout does not move them. */
  explicitPlatforms: `SELECT platform_id FROM platform_plan WHERE ${explicitChoiceSql('platform_plan')} IS NOT NULL`,
};
