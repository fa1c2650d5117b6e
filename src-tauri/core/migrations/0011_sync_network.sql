-- The OAuth client credentials grant as an auth type, per-integration network and pacing
-- settings, and the bookkeeping that proves deletions. SQLite cannot change a CHECK
-- constraint, so the table is rebuilt (no other table references it); the AUTOINCREMENT
-- counter is carried over, so ids of deleted integrations are still never reused.
-- request_budget: requests per rolling hour the app may send (NULL = no budget).
-- request_log: JSON array of unix seconds of the requests sent in the last hour, so a new
--   process keeps to the budget the last one started spending.
-- ca_certificates: PEM certificates trusted for this integration on top of the OS store.
-- syncs_since_listing: syncs since the last id-only listing that looked for deletions.
CREATE TEMP TABLE integrations_seq AS
    SELECT seq FROM sqlite_sequence WHERE name = 'integrations';

CREATE TABLE integrations_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind          TEXT NOT NULL CHECK (kind IN ('servicenow', 'jira')),
    auth          TEXT NOT NULL CHECK (auth IN ('basic', 'token', 'oauth2', 'oauth2_client_credentials')),
    url           TEXT NOT NULL,
    username      TEXT,
    client_id     TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_attempt  TEXT,
    last_sync     TEXT,
    status        TEXT NOT NULL DEFAULT 'never' CHECK (status IN ('never', 'success', 'partial', 'error')),
    error_json    TEXT,
    schedule_minutes INTEGER CHECK (schedule_minutes IS NULL OR schedule_minutes BETWEEN 5 AND 10080),
    filters_json  TEXT NOT NULL DEFAULT '{}',
    request_budget INTEGER CHECK (request_budget IS NULL OR request_budget > 0),
    request_log   TEXT,
    ca_certificates TEXT,
    syncs_since_listing INTEGER NOT NULL DEFAULT 0
);

INSERT INTO integrations_new (id, name, kind, auth, url, username, client_id, enabled, created_at,
    updated_at, last_attempt, last_sync, status, error_json, schedule_minutes, filters_json)
SELECT id, name, kind, auth, url, username, client_id, enabled, created_at,
    updated_at, last_attempt, last_sync, status, error_json, schedule_minutes, filters_json
FROM integrations;

DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;

UPDATE sqlite_sequence
SET seq = MAX(seq, COALESCE((SELECT seq FROM integrations_seq), 0))
WHERE name = 'integrations';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'integrations', seq FROM integrations_seq
WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'integrations');
DROP TABLE integrations_seq;
