-- The knowledge base: synced incidents with their embeddings, dataset versions and what each
-- version changed, and the per-integration sync checkpoint.

-- No foreign key to integrations: synced data outlives a deleted integration (the guide says so);
-- `source_name` keeps the name it had.
CREATE TABLE incidents (
    -- The vector index's key.
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    integration_id  INTEGER NOT NULL,
    source_name     TEXT NOT NULL,
    external_id     TEXT NOT NULL,
    number          TEXT NOT NULL,
    short_description TEXT NOT NULL,
    description     TEXT NOT NULL,
    resolution      TEXT NOT NULL,
    close_code      TEXT,
    state           TEXT NOT NULL,
    priority        TEXT NOT NULL,
    category        TEXT NOT NULL,
    subcategory     TEXT NOT NULL,
    assigned_to     TEXT,
    resolved_by     TEXT,
    caller          TEXT,
    opened_at       TEXT,
    updated_at      TEXT NOT NULL,
    resolved_at     TEXT,
    comments_json   TEXT NOT NULL DEFAULT '[]',
    link            TEXT NOT NULL,
    -- SHA-256 of the whole record (changed → "updated") and of the embedded text (changed →
    -- re-embed).
    record_hash     TEXT NOT NULL,
    text_hash       TEXT NOT NULL,
    -- f32 little-endian, kept so the index can be rebuilt without the model.
    embedding       BLOB,
    model           TEXT,
    version_id      INTEGER NOT NULL,
    UNIQUE (integration_id, external_id)
);
CREATE INDEX incidents_number ON incidents (number);

CREATE TABLE versions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at      TEXT NOT NULL,
    finished_at     TEXT,
    integration_id  INTEGER,
    source_name     TEXT NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('sync', 'full_sync', 'rollback')),
    status          TEXT NOT NULL CHECK (status IN ('running', 'success', 'partial', 'error', 'cancelled')),
    fetched         INTEGER NOT NULL DEFAULT 0,
    added           INTEGER NOT NULL DEFAULT 0,
    updated         INTEGER NOT NULL DEFAULT 0,
    unchanged       INTEGER NOT NULL DEFAULT 0,
    deleted         INTEGER NOT NULL DEFAULT 0,
    skipped         INTEGER NOT NULL DEFAULT 0,
    notes           TEXT NOT NULL DEFAULT '',
    error_json      TEXT
);

-- What a version changed, with the record as it was before (for diffs and rollback).
CREATE TABLE version_changes (
    version_id      INTEGER NOT NULL,
    incident_id     INTEGER NOT NULL,
    change          TEXT NOT NULL CHECK (change IN ('added', 'updated', 'deleted')),
    before_json     TEXT,
    PRIMARY KEY (version_id, incident_id)
);

-- Records a sync could not take, kept per version.
CREATE TABLE version_skipped (
    version_id      INTEGER NOT NULL,
    external_id     TEXT,
    reason          TEXT NOT NULL
);

-- Where the next incremental sync resumes. Moves only together with committed rows.
CREATE TABLE sync_state (
    integration_id      INTEGER PRIMARY KEY,
    watermark_updated   TEXT,
    watermark_id        TEXT,
    deletions_checkpoint TEXT,
    last_version_id     INTEGER
);
