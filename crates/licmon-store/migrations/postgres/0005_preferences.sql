-- Per-user preferences of the web UI: which license servers a user hides from their dashboard
-- and reports. `user_id` is the account of the users table; 0 stands for "everyone" while the
-- UI runs without logins. No row = shown.
CREATE TABLE preferences (
    user_id   BIGINT  NOT NULL,
    server_id BIGINT  NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    hidden    BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, server_id)
);
