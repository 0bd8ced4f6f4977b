-- licmon schema: SQLite's 0008 turns agent_server_seen and agent_usage into WITHOUT ROWID
-- tables; PostgreSQL has no rowid B-tree to save, so there is nothing to change here. The file
-- keeps both backends' migration numbers aligned. Append-only.
SELECT 1;
