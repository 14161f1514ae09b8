-- name: 0004_flow_run_claim_hash
-- release: 0.2.0
-- breaking: false
-- Hash of the run's current claim: only the worker holding that claim may report the run's result. Nullable, so a
-- build without it keeps working (it neither sets nor checks it).
-- +up
ALTER TABLE flow_run ADD COLUMN claim_hash text;
-- +down
ALTER TABLE flow_run DROP COLUMN claim_hash;
