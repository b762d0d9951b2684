-- Analyst queue, bulk actions and filters: who works a case (`assignee`, a desk token name, ''
-- for nobody) and who first reported it (`reporter`, the first event's reporter mail address,
-- lower case, '' when unknown; set by intake when the case opens). Cases opened before this
-- migration keep reporter = ''. Each index ends with id so that keyset pages ("older than the
-- last id shown") stay index range scans at a million cases. Portable (SQLite, PostgreSQL).
ALTER TABLE cases ADD COLUMN assignee TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS cases_assignee_id ON cases (assignee, id);
CREATE INDEX IF NOT EXISTS cases_reporter_id ON cases (reporter, id);
-- Queue sort orders (crates/webui/src/queue_sort.rs): recently updated, nearest deadline, and
-- most severe (one (severity, id) range scan per level), each continued by keyset.
CREATE INDEX IF NOT EXISTS cases_updated_id ON cases (updated_at, id);
CREATE INDEX IF NOT EXISTS cases_deadline_id ON cases (deadline_at, id);
CREATE INDEX IF NOT EXISTS cases_severity_id ON cases (severity, id);
