-- EdgeGate server schema. Portable between SQLite and PostgreSQL: TEXT ids, BIGINT unix-ms
-- timestamps, JSON as TEXT, BIGINT 0/1 flags.

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE members (
    workspace_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_by_user ON members (user_id);

CREATE TABLE integrations (
    workspace_id TEXT NOT NULL,
    provider TEXT NOT NULL,
    token_sealed TEXT NOT NULL,
    token_last4 TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, provider)
);

CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    result TEXT,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE promptpacks (
    workspace_id TEXT NOT NULL,
    promptpack_id TEXT NOT NULL,
    version TEXT NOT NULL,
    content TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    case_count BIGINT NOT NULL,
    published BIGINT NOT NULL,
    published_at BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, promptpack_id, version)
);

CREATE TABLE pipelines (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    promptpack_id TEXT NOT NULL,
    promptpack_version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX pipelines_by_workspace ON pipelines (workspace_id);

CREATE TABLE artifacts (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    filename TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (workspace_id, sha256, kind)
);

CREATE TABLE runs (
    id TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    pipeline_id TEXT NOT NULL,
    artifact_id TEXT NOT NULL,
    baseline_run_id TEXT,
    status TEXT NOT NULL,
    verdict TEXT,
    error_detail TEXT,
    results TEXT,
    junit TEXT,
    markdown TEXT,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX runs_by_pipeline ON runs (pipeline_id, created_at);
CREATE INDEX runs_by_status ON runs (status, created_at);
