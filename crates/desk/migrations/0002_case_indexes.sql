-- Indexes for the analyst queue: search by subject (IP, domain, URL) and sparse class or state
-- filters, each with id so keyset pagination ("older than the last id shown") stays an index
-- range scan at a million cases. Portable between SQLite and PostgreSQL.
CREATE INDEX IF NOT EXISTS cases_subject_id ON cases (subject, id);
CREATE INDEX IF NOT EXISTS cases_class_id ON cases (class, id);
CREATE INDEX IF NOT EXISTS cases_state_id ON cases (state, id);
