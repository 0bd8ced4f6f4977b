-- licmon schema: polling leases, so that several nodes split the license servers (issue 10).
-- Append-only. Times are Unix milliseconds of the database's clock; see src/leases.rs.

-- Who polls a license server: one row per server ever leased. A lease is valid while
-- expires_at >= now; an expired one may be claimed by any node.
CREATE TABLE server_leases (
    server_id  INTEGER PRIMARY KEY REFERENCES license_servers(id) ON DELETE CASCADE,
    node_id    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    lease_ms   INTEGER NOT NULL
);
CREATE INDEX server_leases_node ON server_leases (node_id);

-- Collector nodes taking part in lease rounds; seen_at is the last round. Live members
-- decide the fair share (ceil(servers / live members)).
CREATE TABLE collector_members (
    node_id TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL
);
