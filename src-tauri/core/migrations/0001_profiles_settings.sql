-- Local profiles (who is acting) and key/value settings.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);

CREATE TABLE profiles (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'viewer')),
    -- Argon2id PHC string, or NULL when the profile has no password.
    password_hash TEXT,
    created_at    TEXT NOT NULL
);

-- A fresh install has one passwordless admin profile, active, so the app works out of the box.
INSERT INTO profiles (name, role, password_hash, created_at)
VALUES ('Admin', 'admin', NULL, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));
INSERT INTO settings (key, value) VALUES ('active_profile', 'Admin');
-- Distinguishes this data directory's entries in the shared OS keyring.
INSERT INTO settings (key, value) VALUES ('vault_id', lower(hex(randomblob(8))));
