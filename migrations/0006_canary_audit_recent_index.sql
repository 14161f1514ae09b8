-- name: 0006_canary_audit_recent_index
-- release: 0.3.0
-- breaking: false
-- Every cohort load reads the versions of the last minutes' choice changes (core/membership/sql.ts), so a flip can be
-- applied to the routing cache in place; this index keeps that read small however long the audit log grows.
-- +up
CREATE INDEX canary_audit_recent_choice_idx ON canary_audit (at) WHERE platform_id IS NOT NULL;
-- +down
DROP INDEX canary_audit_recent_choice_idx;
