-- licmon schema v1 (PostgreSQL). Append-only: never edit a released migration, add a new file.
-- Times are Unix milliseconds (UTC) in BIGINT columns; booleans are BOOLEAN.

CREATE TABLE license_servers (
    id                  BIGSERIAL PRIMARY KEY,
    name                TEXT    NOT NULL UNIQUE,
    kind                TEXT    NOT NULL,
    vendor              TEXT    NOT NULL DEFAULT '',
    address             TEXT,
    description         TEXT    NOT NULL DEFAULT '',
    time_zone           TEXT    NOT NULL,
    query_interval_secs BIGINT NOT NULL,
    utility_path        TEXT,
    remote_enabled BOOLEAN NOT NULL,
    import_enabled BOOLEAN NOT NULL,
    end_user_enabled BOOLEAN NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    verify_requested_at BIGINT,
    last_poll_at        BIGINT,
    last_poll_error     TEXT,
    last_success_at     BIGINT,
    last_import         TEXT
);

CREATE TABLE current_snapshots (
    server_id BIGINT PRIMARY KEY REFERENCES license_servers(id) ON DELETE CASCADE,
    taken_at  BIGINT NOT NULL,
    body      TEXT    NOT NULL
);

CREATE TABLE sessions (
    id         BIGSERIAL PRIMARY KEY,
    server_id  BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    source     TEXT    NOT NULL,
    session_key TEXT   NOT NULL,
    feature    TEXT    NOT NULL,
    user_name  TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    display    TEXT,
    version    TEXT,
    count      BIGINT NOT NULL,
    borrowed   BOOLEAN NOT NULL,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX sessions_open ON sessions (server_id, ended_at);
CREATE INDEX sessions_started ON sessions (server_id, started_at);

CREATE TABLE feature_changes (
    server_id BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature   TEXT    NOT NULL,
    at        BIGINT NOT NULL,
    issued    BIGINT,
    in_use    BIGINT NOT NULL,
    reserved  BIGINT NOT NULL,
    borrowed  BIGINT NOT NULL,
    queued    BIGINT NOT NULL
);
CREATE INDEX feature_changes_at ON feature_changes (server_id, feature, at);

CREATE TABLE usage_rollups (
    server_id    BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature      TEXT    NOT NULL,
    granularity  TEXT    NOT NULL,
    bucket_start BIGINT NOT NULL,
    samples      BIGINT NOT NULL,
    sum_in_use   BIGINT NOT NULL,
    min_in_use   BIGINT NOT NULL,
    max_in_use   BIGINT NOT NULL,
    max_issued   BIGINT,
    PRIMARY KEY (server_id, feature, granularity, bucket_start)
);

CREATE TABLE monitor_nodes (
    node_id           TEXT    PRIMARY KEY,
    host              TEXT    NOT NULL,
    started_at        BIGINT NOT NULL,
    heartbeat_at      BIGINT NOT NULL,
    collector_running BOOLEAN NOT NULL
);

CREATE TABLE event_log (
    id        BIGSERIAL PRIMARY KEY,
    at        BIGINT NOT NULL,
    server_id BIGINT,
    category  TEXT    NOT NULL,
    message   TEXT    NOT NULL
);
CREATE INDEX event_log_at ON event_log (at);
