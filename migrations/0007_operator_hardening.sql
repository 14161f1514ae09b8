-- name: 0007_operator_hardening
-- release: 0.3.0
-- breaking: false
-- Operator plane hardening (DESIGN §8): override tokens minted at or before `overrides_revoked_before` are ignored,
-- and admin page sessions live server-side, so signing out ends one for real. Additive only: a build without it neither
-- reads nor writes these.
-- +up
ALTER TABLE canary_rollout ADD COLUMN overrides_revoked_before timestamptz NOT NULL DEFAULT 'epoch';
CREATE TABLE canary_admin_session (
  id text PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz
);
CREATE INDEX canary_admin_session_live_idx ON canary_admin_session (expires_at) WHERE ended_at IS NULL;
-- +down
DROP TABLE canary_admin_session;
ALTER TABLE canary_rollout DROP COLUMN overrides_revoked_before;
