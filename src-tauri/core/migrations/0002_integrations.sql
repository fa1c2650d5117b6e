-- Integrations (connection settings and sync state) and the secret index.
CREATE TABLE integrations (
    -- AUTOINCREMENT: ids are never reused, so synced data and versions that outlive a deleted
    -- integration can never be attributed to a later one.
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    kind          TEXT NOT NULL CHECK (kind IN ('servicenow', 'jira')),
    auth          TEXT NOT NULL CHECK (auth IN ('basic', 'token', 'oauth2')),
    url           TEXT NOT NULL,
    username      TEXT,
    client_id     TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    -- Sync state, modelled as last attempted / last succeeded / last error.
    last_attempt  TEXT,
    last_sync     TEXT,
    status        TEXT NOT NULL DEFAULT 'never' CHECK (status IN ('never', 'success', 'partial', 'error')),
    error_json    TEXT
);

-- One row per stored secret. For the OS-keyring backend the value lives in the keyring and this
-- row only records that it is set; for the encrypted-file backend it holds XChaCha20-Poly1305
-- ciphertext. Plaintext never appears here.
CREATE TABLE secrets (
    scope       TEXT NOT NULL,
    owner_id    INTEGER NOT NULL,
    field       TEXT NOT NULL,
    backend     TEXT NOT NULL CHECK (backend IN ('os_keyring', 'encrypted_file')),
    nonce       BLOB,
    ciphertext  BLOB,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (scope, owner_id, field)
);
