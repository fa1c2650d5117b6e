-- Full-text search over the knowledge base: an FTS5 index of the incidents, kept in step with
-- them by triggers so it can never drift from the rows (any writer, any transaction: sync,
-- rollback, deletion). External content: the text lives once, in `incidents`; the view below
-- is what FTS5 reads back for snippet() and 'rebuild', and the triggers index exactly the same
-- expressions, so the 'delete' commands always remove what was indexed.

-- One FTS column per searchable field; `category` joins category and subcategory. `comments` is
-- the journal's JSON array of strings as stored: the tokenizer treats its quotes, brackets and
-- commas as separators, so it indexes the same words as the text would. (Table-valued
-- json_each() cannot be used here: SQLite resolves it as a table inside trigger bodies.)
CREATE VIEW incidents_fts_source AS
SELECT id,
       number,
       short_description,
       description,
       resolution,
       category || ' ' || subcategory AS category,
       incidents.comments_json AS comments
FROM incidents;

-- porter over unicode61: English stemming ("disconnects" finds "disconnecting"), Unicode word
-- boundaries and case folding, diacritics removed ("cafe" finds "café").
CREATE VIRTUAL TABLE incidents_fts USING fts5(
    number, short_description, description, resolution, category, comments,
    content = 'incidents_fts_source',
    content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER incidents_fts_insert AFTER INSERT ON incidents BEGIN
    INSERT INTO incidents_fts (rowid, number, short_description, description, resolution, category, comments)
    VALUES (new.id, new.number, new.short_description, new.description, new.resolution,
            new.category || ' ' || new.subcategory,
            new.comments_json);
END;

-- Only when an indexed field changes: a rollback or sync touching version_id alone re-indexes
-- nothing.
CREATE TRIGGER incidents_fts_update AFTER UPDATE OF
    number, short_description, description, resolution, category, subcategory, comments_json
ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, number, short_description, description, resolution, category, comments)
    VALUES ('delete', old.id, old.number, old.short_description, old.description, old.resolution,
            old.category || ' ' || old.subcategory,
            old.comments_json);
    INSERT INTO incidents_fts (rowid, number, short_description, description, resolution, category, comments)
    VALUES (new.id, new.number, new.short_description, new.description, new.resolution,
            new.category || ' ' || new.subcategory,
            new.comments_json);
END;

CREATE TRIGGER incidents_fts_delete AFTER DELETE ON incidents BEGIN
    INSERT INTO incidents_fts (incidents_fts, rowid, number, short_description, description, resolution, category, comments)
    VALUES ('delete', old.id, old.number, old.short_description, old.description, old.resolution,
            old.category || ' ' || old.subcategory,
            old.comments_json);
END;

-- Backfill the incidents synced before this migration.
INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');

-- Facets and filters scan these.
CREATE INDEX incidents_opened_at ON incidents (opened_at);
