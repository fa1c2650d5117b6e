-- What the source counted for a sync's query (X-Total-Count, Jira's total) and how many of
-- those the account could not read, next to what the version stored. NULL: no count given.
ALTER TABLE versions ADD COLUMN source_total INTEGER;
ALTER TABLE versions ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;
