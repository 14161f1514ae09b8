-- name: 0008_release_plans
-- release: 0.3.0
-- breaking: false
-- Release plans and notifications (DESIGN §8): one row per plan (at most one active: `active` is true only while it
-- runs or is held, and unique among the true ones), and the cursor of the audit entries already handed to the
-- notification queue. Additive only: a build without it neither reads nor writes these.
-- +up
CREATE TABLE canary_plan (
  id bigserial PRIMARY KEY,
  state text NOT NULL CHECK (state IN ('running', 'held', 'completed', 'aborted')),
  active boolean CHECK (active),
  steps jsonb NOT NULL,
  max_bake_seconds integer NOT NULL CHECK (max_bake_seconds BETWEEN 0 AND 604800),
  current_step integer NOT NULL DEFAULT 0,
  step_applied boolean NOT NULL DEFAULT false,
  step_started_at timestamptz,
  bake_ends_at timestamptz,
  applied_basis_points integer,
  rollout_before integer NOT NULL,
  hold_reason text,
  verdicts jsonb NOT NULL DEFAULT '[]'::jsonb,
  version integer NOT NULL DEFAULT 1,
  started_at timestamptz NOT NULL DEFAULT now(),
  started_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  ended_at timestamptz,
  CHECK ((active IS TRUE) = (state IN ('running', 'held')))
);
CREATE UNIQUE INDEX canary_plan_one_active ON canary_plan (active) WHERE active;
CREATE TABLE canary_notify_cursor (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  last_audit_id bigint NOT NULL
);
-- Notifications start with the changes made after this migration.
INSERT INTO canary_notify_cursor (id, last_audit_id) SELECT 1, COALESCE(max(id), 0) FROM canary_audit;
-- +down
DROP TABLE canary_notify_cursor;
DROP TABLE canary_plan;
