-- name: 0005_canary_control
-- release: 0.2.0
-- breaking: false
-- Progressive delivery and the operator plane (docs/architecture.md §7): an explicit per-platform choice, one rollout
-- record (percentage as basis points, salt, kill switch), and an audit log written in the same statement as every
-- change. Additive only: a build that predates it keeps reading platform_plan.canary, which still means "pinned".
-- +up
ALTER TABLE platform_plan ADD COLUMN canary_explicit boolean NOT NULL DEFAULT false;
-- Until now every platform in the cohort was put there by an operator: that is an explicit choice.
UPDATE platform_plan SET canary_explicit = true WHERE canary;
CREATE INDEX platform_plan_explicit_idx ON platform_plan (platform_id) WHERE canary_explicit;

CREATE TABLE canary_rollout (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  basis_points integer NOT NULL DEFAULT 0 CHECK (basis_points BETWEEN 0 AND 10000),
  salt text NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NOT NULL DEFAULT 'migration'
);
-- The salt is fixed at creation: changing it would reshuffle which platforms a given percentage includes.
INSERT INTO canary_rollout (id, salt) VALUES (1, replace(gen_random_uuid()::text, '-', ''));

CREATE TABLE canary_audit (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT now(),
  actor text NOT NULL,
  action text NOT NULL,
  platform_id text,
  before jsonb,
  after jsonb,
  reason text
);
CREATE INDEX canary_audit_platform_idx ON canary_audit (platform_id, id DESC) WHERE platform_id IS NOT NULL;
-- +down
DROP TABLE canary_audit;
DROP TABLE canary_rollout;
DROP INDEX platform_plan_explicit_idx;
ALTER TABLE platform_plan DROP COLUMN canary_explicit;
