-- Scheduled tasks. A run of a task happens in the process that holds its lease: the lease is
-- taken by one conditional UPDATE, so several processes sharing the database run each task
-- once per interval.
CREATE TABLE task_leases (
    name         TEXT PRIMARY KEY,
    owner        TEXT NOT NULL,
    lease_until  BIGINT NOT NULL
);

CREATE TABLE task_runs (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    owner        TEXT NOT NULL,
    status       TEXT NOT NULL,
    started_at   BIGINT NOT NULL,
    duration_us  BIGINT NOT NULL,
    processed    BIGINT NOT NULL,
    error        TEXT
);
CREATE INDEX task_runs_name ON task_runs(name, id);
