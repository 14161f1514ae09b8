-- name: 0001_initial_schema
-- release: 0.1.0
-- breaking: false
-- The minimum schema of DESIGN §4 plus the nullable/defaulted columns the origin needs.
-- +up
CREATE TABLE platform (
  id text PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz DEFAULT now()
);

CREATE TABLE platform_plan (
  platform_id text PRIMARY KEY REFERENCES platform (id),
  canary boolean NOT NULL DEFAULT false
);
-- The edge loads the whole canary cohort on a cache miss; the partial index keeps that read small.
CREATE INDEX platform_plan_canary_idx ON platform_plan (platform_id) WHERE canary;

CREATE TABLE project (
  id text PRIMARY KEY,
  platform_id text NOT NULL REFERENCES platform (id)
);
CREATE INDEX project_platform_id_idx ON project (platform_id);

CREATE TABLE flow (
  id text PRIMARY KEY,
  project_id text NOT NULL REFERENCES project (id),
  definition jsonb
);
CREATE INDEX flow_project_id_idx ON flow (project_id);

CREATE TABLE api_key (
  id text PRIMARY KEY,
  platform_id text NOT NULL REFERENCES platform (id),
  hashed_value text NOT NULL UNIQUE
);

-- No foreign keys on flow_run: a run is history and outlives the flow that produced it.
CREATE TABLE flow_run (
  id text PRIMARY KEY,
  flow_id text,
  platform_id text,
  status text,
  queue text,
  worker_version text,
  payload jsonb,
  result jsonb,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);
CREATE INDEX flow_run_platform_id_idx ON flow_run (platform_id);
-- +down
DROP TABLE flow_run;
DROP TABLE api_key;
DROP TABLE flow;
DROP TABLE project;
DROP TABLE platform_plan;
DROP TABLE platform;
