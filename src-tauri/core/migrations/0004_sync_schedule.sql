-- Automatic sync interval per integration; NULL means manual sync only.
ALTER TABLE integrations ADD COLUMN schedule_minutes INTEGER
    CHECK (schedule_minutes IS NULL OR schedule_minutes BETWEEN 5 AND 10080);
