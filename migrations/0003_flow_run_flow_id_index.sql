-- name: 0003_flow_run_flow_id_index
-- release: 0.1.0
-- breaking: false
-- Lists a flow's runs newest first without scanning every run of the platform.
-- +up
CREATE INDEX flow_run_flow_id_created_at_idx ON flow_run (flow_id, created_at DESC);
-- +down
DROP INDEX flow_run_flow_id_created_at_idx;
