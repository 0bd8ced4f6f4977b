-- licmon schema: alert rules, subscriptions, alerts and their deliveries (issue 9), SQLite.
-- Append-only. Times are Unix milliseconds (UTC); booleans are 0/1. See src/alerts.rs.

CREATE TABLE alert_rules (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    -- The rule kind with its thresholds, as JSON ({"kind": "utilisation", "percent": 90}).
    params      TEXT    NOT NULL,
    server_id   INTEGER REFERENCES license_servers(id) ON DELETE CASCADE,
    enabled     INTEGER NOT NULL,
    webhook_url TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Where a user's alert e-mails go.
CREATE TABLE alert_recipients (
    user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    email   TEXT    NOT NULL
);

CREATE TABLE alert_subscriptions (
    rule_id INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (rule_id, user_id)
);

-- One row per alert: pending → firing → resolved. At most one open (not resolved) per rule and
-- subject. server_id is informative (no foreign key): a deleted server's alerts resolve.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id     INTEGER NOT NULL REFERENCES alert_rules(id) ON DELETE CASCADE,
    subject     TEXT    NOT NULL,
    server_id   INTEGER,
    state       TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    since       INTEGER NOT NULL,
    fired_at    INTEGER,
    resolved_at INTEGER,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX alerts_open ON alerts (rule_id, subject) WHERE state <> 'resolved';
CREATE INDEX alerts_resolved ON alerts (resolved_at);

-- The outbox: one row per notification and target, written in the transaction that fires or
-- resolves the alert, sent (and retried) afterwards.
CREATE TABLE alert_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    alert_id        INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    channel         TEXT    NOT NULL,
    target          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    sent_at         INTEGER,
    gave_up_at      INTEGER,
    last_error      TEXT
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (sent_at, gave_up_at, next_attempt_at);

-- Installation-wide alert settings as JSON documents (key 'smtp').
CREATE TABLE alert_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Which node evaluates alerts: one row, valid while expires_at >= the database's now.
CREATE TABLE alert_evaluator (
    name       TEXT    PRIMARY KEY,
    node_id    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
