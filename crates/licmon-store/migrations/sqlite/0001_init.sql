-- licmon schema v1 (SQLite). Append-only: never edit a released migration, add a new file.
-- Times are Unix milliseconds (UTC) in INTEGER columns; booleans are 0/1.

CREATE TABLE license_servers (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT    NOT NULL UNIQUE,
    kind                TEXT    NOT NULL,
    vendor              TEXT    NOT NULL DEFAULT '',
    address             TEXT,
    description         TEXT    NOT NULL DEFAULT '',
    time_zone           TEXT    NOT NULL,
    query_interval_secs INTEGER NOT NULL,
    utility_path        TEXT,
    remote_enabled      INTEGER NOT NULL,
    import_enabled      INTEGER NOT NULL,
    end_user_enabled    INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    verify_requested_at INTEGER,
    last_poll_at        INTEGER,
    last_poll_error     TEXT,
    last_success_at     INTEGER,
    last_import         TEXT
);

CREATE TABLE current_snapshots (
    server_id INTEGER PRIMARY KEY REFERENCES license_servers(id) ON DELETE CASCADE,
    taken_at  INTEGER NOT NULL,
    body      TEXT    NOT NULL
);

CREATE TABLE sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id  INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    source     TEXT    NOT NULL,
    session_key TEXT   NOT NULL,
    feature    TEXT    NOT NULL,
    user_name  TEXT    NOT NULL,
    host       TEXT    NOT NULL,
    display    TEXT,
    version    TEXT,
    count      INTEGER NOT NULL,
    borrowed   INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER
);
CREATE INDEX sessions_open ON sessions (server_id, ended_at);
CREATE INDEX sessions_started ON sessions (server_id, started_at);

CREATE TABLE feature_changes (
    server_id INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature   TEXT    NOT NULL,
    at        INTEGER NOT NULL,
    issued    INTEGER,
    in_use    INTEGER NOT NULL,
    reserved  INTEGER NOT NULL,
    borrowed  INTEGER NOT NULL,
    queued    INTEGER NOT NULL
);
CREATE INDEX feature_changes_at ON feature_changes (server_id, feature, at);

CREATE TABLE usage_rollups (
    server_id    INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature      TEXT    NOT NULL,
    granularity  TEXT    NOT NULL,
    bucket_start INTEGER NOT NULL,
    samples      INTEGER NOT NULL,
    sum_in_use   INTEGER NOT NULL,
    min_in_use   INTEGER NOT NULL,
    max_in_use   INTEGER NOT NULL,
    max_issued   INTEGER,
    PRIMARY KEY (server_id, feature, granularity, bucket_start)
);

CREATE TABLE monitor_nodes (
    node_id           TEXT    PRIMARY KEY,
    host              TEXT    NOT NULL,
    started_at        INTEGER NOT NULL,
    heartbeat_at      INTEGER NOT NULL,
    collector_running INTEGER NOT NULL
);

CREATE TABLE event_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL,
    server_id INTEGER,
    category  TEXT    NOT NULL,
    message   TEXT    NOT NULL
);
CREATE INDEX event_log_at ON event_log (at);
