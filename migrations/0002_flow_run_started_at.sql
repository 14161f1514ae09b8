-- name: 0002_flow_run_started_at
-- release: 0.1.0
-- breaking: false
-- When a worker picked the run up; nullable so older builds that never set it keep working.
-- +up
ALTER TABLE flow_run ADD COLUMN started_at timestamptz;
-- +down
ALTER TABLE flow_run DROP COLUMN started_at;
