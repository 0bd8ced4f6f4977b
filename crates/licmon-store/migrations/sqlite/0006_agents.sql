-- licmon schema: end-user agents (SQLite). Append-only.
-- Times are Unix milliseconds (UTC) in INTEGER columns; booleans are 0/1.

-- The agent registry, keyed by the id an agent reports (its host name unless configured).
CREATE TABLE agents (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_key     TEXT    NOT NULL UNIQUE,
    host          TEXT    NOT NULL,
    os_user       TEXT    NOT NULL,
    agent_version TEXT    NOT NULL,
    token_id      INTEGER,
    first_seen_at INTEGER NOT NULL,
    last_seen_at  INTEGER NOT NULL,
    last_error    TEXT,
    last_error_at INTEGER
);

-- When each agent last reported for each license server (End User "Online (x)").
CREATE TABLE agent_server_seen (
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    server_id    INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, server_id)
);
CREATE INDEX agent_server_seen_at ON agent_server_seen (server_id, last_seen_at);

-- The latest report of each agent per server: what runs there now. Replaced by every report.
CREATE TABLE agent_usage (
    agent_id    INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    server_id   INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature     TEXT    NOT NULL,
    executable  TEXT    NOT NULL,
    user_name   TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    instances   INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    idle_secs   INTEGER NOT NULL,
    observed_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, server_id, feature, executable, user_name)
);
CREATE INDEX agent_usage_server ON agent_usage (server_id, observed_at);

-- Which executables count as which feature of which license server.
CREATE TABLE agent_apps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id   INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature     TEXT    NOT NULL,
    -- JSON array of executable file names.
    executables TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (server_id, feature)
);

-- Idle/active information from agents, on sessions of any source.
ALTER TABLE sessions ADD COLUMN idle_secs INTEGER;
ALTER TABLE sessions ADD COLUMN active INTEGER;
