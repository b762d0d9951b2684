-- Dashboard aggregates and customer self-help. Portable between SQLite and PostgreSQL.

-- Who reported an event and when the desk received it, as columns, so the dashboard can count
-- "reports per day by class" and "reporters by volume" with index range scans instead of
-- parsing event_json (whose JSON functions differ between the backends). Rows from before this
-- migration take the report's arrival time and envelope sender.
ALTER TABLE events ADD COLUMN reporter TEXT NOT NULL DEFAULT '';
ALTER TABLE events ADD COLUMN received_at BIGINT NOT NULL DEFAULT 0;
UPDATE events SET
    received_at = COALESCE((SELECT r.received_at FROM reports r WHERE r.id = events.report_id), 0),
    reporter = COALESCE((SELECT r.envelope_from FROM reports r WHERE r.id = events.report_id), '');
CREATE INDEX IF NOT EXISTS events_received_class ON events (received_at, class);
CREATE INDEX IF NOT EXISTS events_received_reporter ON events (received_at, reporter);

-- Covering indexes for the case aggregates (no table lookups at a million rows): open cases
-- by age (state, then opened_at), repeat offenders (walked in customer order, so no sort for
-- the GROUP BY), time to first action (the window on opened_at plus the three action stamps).
CREATE INDEX IF NOT EXISTS cases_state_opened ON cases (state, opened_at);
CREATE INDEX IF NOT EXISTS cases_customer_opened ON cases (customer_id, opened_at);
CREATE INDEX IF NOT EXISTS cases_opened_actions ON cases (opened_at, notified_at, escalated_at, closed_at);

-- What customers wrote through the self-help page (a reply, or "resolved" with a note).
CREATE TABLE customer_replies (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    kind TEXT NOT NULL,               -- reply | resolved
    body TEXT NOT NULL
);
CREATE INDEX customer_replies_case ON customer_replies (case_id, at);
