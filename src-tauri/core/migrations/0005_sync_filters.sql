-- What a sync pulls: JSON of connectors::Filters ({} = everything).
ALTER TABLE integrations ADD COLUMN filters_json TEXT NOT NULL DEFAULT '{}';
