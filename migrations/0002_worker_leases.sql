-- Several workers on one database: a worker claims a run by writing its id and a lease expiry
-- (unix ms) it renews while the run executes; a run still `running` after its lease expired
-- belongs to a worker that died and is claimed again. `attempts` counts claims, so a run that
-- keeps killing workers ends as error "interrupted" instead of forever. `run_attempts` records
-- each claim (which worker, when it started and ended), the evidence that no run executed on
-- two workers at once. Portable between SQLite and PostgreSQL (one column per ALTER).

ALTER TABLE runs ADD COLUMN lease_owner TEXT;
ALTER TABLE runs ADD COLUMN lease_expires_at BIGINT;
ALTER TABLE runs ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;

CREATE INDEX runs_by_lease ON runs (status, lease_expires_at);

CREATE TABLE run_attempts (
    run_id TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    worker TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at BIGINT,
    outcome TEXT,
    PRIMARY KEY (run_id, attempt)
);
