-- What rolling the knowledge base back to a version needs.

-- The incident's embedding as it was before the change, so a rollback restores the exact vectors
-- without the model. NULL on rows written before this migration (a rollback re-embeds those).
ALTER TABLE version_changes ADD COLUMN before_embedding BLOB;

-- For kind = 'rollback': the version it rolled back to.
ALTER TABLE versions ADD COLUMN rollback_to INTEGER;

-- An integration's sync checkpoint right after a version: what a rollback restores, so the next
-- incremental sync re-fetches everything the source changed after the target version. A sync
-- version records one row (its integration); a rollback one row per integration it reset.
-- NULLs mean "no checkpoint" (the next sync starts from the beginning).
CREATE TABLE version_sync_state (
    version_id          INTEGER NOT NULL,
    integration_id      INTEGER NOT NULL,
    watermark_updated   TEXT,
    watermark_id        TEXT,
    deletions_checkpoint TEXT,
    PRIMARY KEY (version_id, integration_id)
);
CREATE INDEX version_sync_state_integration ON version_sync_state (integration_id, version_id);

-- "The record right after version N" is the before image of the incident's next change.
CREATE INDEX version_changes_incident ON version_changes (incident_id, version_id);
