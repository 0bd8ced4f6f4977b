-- licmon schema: imports (PostgreSQL). Append-only. Times are Unix ms (UTC); booleans are BOOLEAN.

-- Where each imported file stands: the file is known by a hash of its head (first head_len
-- bytes, plus format and server); byte_offset/line_no/parser_state say where to resume.
-- Written in the same transaction as the events of each batch.
CREATE TABLE import_checkpoints (
    id           BIGSERIAL PRIMARY KEY,
    server_id    BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    format       TEXT    NOT NULL,
    file_name    TEXT    NOT NULL,
    head_len     BIGINT NOT NULL,
    head_hash    TEXT    NOT NULL,
    byte_offset  BIGINT NOT NULL,
    line_no      BIGINT NOT NULL,
    parser_state TEXT    NOT NULL,
    totals       TEXT    NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX import_checkpoints_server ON import_checkpoints (server_id, format);

-- Per server: a generation bumped by every committed batch (two imports of one server at once
-- cannot both commit), and the newest event time imported.
CREATE TABLE import_state (
    server_id     BIGINT PRIMARY KEY REFERENCES license_servers(id) ON DELETE CASCADE,
    generation    BIGINT NOT NULL,
    last_event_at BIGINT
);

-- Raw denials; retry = a checkout of the same feature by the same user followed within the
-- configured window (SPEC §4), i.e. not a true denial.
CREATE TABLE denials (
    id        BIGSERIAL PRIMARY KEY,
    server_id BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    source    TEXT    NOT NULL,
    at        BIGINT NOT NULL,
    feature   TEXT    NOT NULL,
    user_name TEXT    NOT NULL,
    host      TEXT    NOT NULL,
    count     BIGINT NOT NULL,
    reason    TEXT,
    retry     BOOLEAN NOT NULL
);
CREATE INDEX denials_at ON denials (server_id, at);

-- One row per import run (CLI, API, watched folder), newest last.
CREATE TABLE imports (
    id          BIGSERIAL PRIMARY KEY,
    server_id   BIGINT NOT NULL REFERENCES license_servers(id) ON DELETE CASCADE,
    file_name   TEXT    NOT NULL,
    format      TEXT    NOT NULL,
    via         TEXT    NOT NULL,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    outcome     TEXT    NOT NULL,
    reason      TEXT,
    summary     TEXT    NOT NULL
);
CREATE INDEX imports_server ON imports (server_id, started_at);
