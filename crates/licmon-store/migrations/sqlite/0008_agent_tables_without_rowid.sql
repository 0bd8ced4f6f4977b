-- licmon schema: the two tables every agent report rewrites become WITHOUT ROWID (SQLite).
-- Append-only. A rowid table with a composite primary key is two B-trees (the rows, and the
-- key's index); WITHOUT ROWID keeps the rows in the key's B-tree, so each report's delete,
-- insert and upsert touch one B-tree fewer. Same columns, keys and secondary indexes.

CREATE TABLE agent_server_seen_new (
    agent_id     INTEGER NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    server_id    INTEGER NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    last_seen_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, server_id)
) WITHOUT ROWID;
INSERT INTO agent_server_seen_new (agent_id, server_id, last_seen_at)
    SELECT agent_id, server_id, last_seen_at FROM agent_server_seen;
DROP TABLE agent_server_seen;
ALTER TABLE agent_server_seen_new RENAME TO agent_server_seen;
CREATE INDEX agent_server_seen_at ON agent_server_seen (server_id, last_seen_at);

CREATE TABLE agent_usage_new (
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
) WITHOUT ROWID;
INSERT INTO agent_usage_new (agent_id, server_id, feature, executable, user_name, host,
        instances, started_at, idle_secs, observed_at)
    SELECT agent_id, server_id, feature, executable, user_name, host, instances, started_at,
        idle_secs, observed_at
    FROM agent_usage;
DROP TABLE agent_usage;
ALTER TABLE agent_usage_new RENAME TO agent_usage;
CREATE INDEX agent_usage_server ON agent_usage (server_id, observed_at);
