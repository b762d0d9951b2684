-- Raw report bytes, content-addressed (id = SHA-256 hex of the bytes, the reports.id), written in
-- the same transaction as the reports row. Storing them here instead of one fsynced file each
-- lets one commit (one WAL fsync on SQLite, one WAL flush on PostgreSQL) make a whole batch of
-- reports durable before any of them is acknowledged, and on PostgreSQL every node can read
-- every report for recovery. Reports stored before this table existed stay in the file store.
CREATE TABLE IF NOT EXISTS raw_reports (
    id TEXT PRIMARY KEY,
    bytes BYTEA NOT NULL
);
