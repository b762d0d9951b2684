-- CGN attribution: the NAT logs name an inside address (and sometimes a subscriber id); these
-- tables say which customer that is. Portable between SQLite and PostgreSQL.

-- 1: the prefix is subscriber-side (inside) address space behind a CGN, e.g. 100.64.0.7/32.
-- Inside prefixes are only consulted through NAT logs, never for a reported public address.
ALTER TABLE prefixes ADD COLUMN inside INTEGER NOT NULL DEFAULT 0;

-- Subscriber identifiers (RADIUS User-Name or Calling-Station-Id, or the subscriber id a CGN
-- logs) held by a customer over a period.
CREATE TABLE subscribers (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    subscriber TEXT NOT NULL,
    valid_from BIGINT NOT NULL,
    valid_to BIGINT
);
CREATE INDEX subscribers_subscriber ON subscribers (subscriber);
