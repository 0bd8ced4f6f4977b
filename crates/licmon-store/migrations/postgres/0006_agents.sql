-- licmon schema: end-user agents (PostgreSQL). Append-only.
-- Times are Unix milliseconds (UTC) in BIGINT columns; booleans are BOOLEAN.

-- The agent registry, keyed by the id an agent reports (its host name unless configured).
CREATE TABLE agents (
    id            BIGSERIAL PRIMARY KEY,
    agent_key     TEXT    NOT NULL UNIQUE,
    host          TEXT    NOT NULL,
    os_user       TEXT    NOT NULL,
    agent_version TEXT    NOT NULL,
    token_id      BIGINT,
    first_seen_at BIGINT  NOT NULL,
    last_seen_at  BIGINT  NOT NULL,
    last_error    TEXT,
    last_error_at BIGINT
);

-- When each agent last reported for each license server (End User "Online (x)").
CREATE TABLE agent_server_seen (
    agent_id     BIGINT  NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    server_id    BIGINT  NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    last_seen_at BIGINT  NOT NULL,
    PRIMARY KEY (agent_id, server_id)
);
CREATE INDEX agent_server_seen_at ON agent_server_seen (server_id, last_seen_at);

-- The latest report of each agent per server: what runs there now. Replaced by every report.
CREATE TABLE agent_usage (
    agent_id    BIGINT  NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    server_id   BIGINT  NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature     TEXT    NOT NULL,
    executable  TEXT    NOT NULL,
    user_name   TEXT    NOT NULL,
    host        TEXT    NOT NULL,
    instances   BIGINT  NOT NULL,
    started_at  BIGINT  NOT NULL,
    idle_secs   BIGINT  NOT NULL,
    observed_at BIGINT  NOT NULL,
    PRIMARY KEY (agent_id, server_id, feature, executable, user_name)
);
CREATE INDEX agent_usage_server ON agent_usage (server_id, observed_at);

-- Which executables count as which feature of which license server.
CREATE TABLE agent_apps (
    id          BIGSERIAL PRIMARY KEY,
    server_id   BIGINT  NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    feature     TEXT    NOT NULL,
    -- JSON array of executable file names.
    executables TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL,
    UNIQUE (server_id, feature)
);

-- Idle/active information from agents, on sessions of any source.
ALTER TABLE sessions ADD COLUMN idle_secs BIGINT;
ALTER TABLE sessions ADD COLUMN active BOOLEAN;
