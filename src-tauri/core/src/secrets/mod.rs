//! Secret storage: the OS keyring when one is reachable, else XChaCha20-Poly1305 ciphertext in
//! SQLite with the key in an owner-only file. SQLite's `secrets` table indexes which secrets are
//! set and where; plaintext never reaches SQLite, logs or error messages.

mod encrypted;
mod keyring;

use std::path::Path;

use rusqlite::{Connection, OptionalExtension};
use secrecy::SecretString;
use serde::Serialize;

use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult, ErrorCode};

pub use encrypted::KEY_FILE;

/// Environment variable forcing a backend: `keyring` (fail if unreachable) or `file`.
pub const SECRET_STORE_ENV: &str = "SUPPORTBOT_SECRET_STORE";

/// Which secret store to use, normally from `SUPPORTBOT_SECRET_STORE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorePreference {
    /// The OS keyring when reachable, else the encrypted file.
    Auto,
    /// The OS keyring, failing when unreachable.
    Keyring,
    /// The encrypted file, even when a keyring is reachable.
    File,
}

impl StorePreference {
    pub fn from_env() -> StorePreference {
        match std::env::var(SECRET_STORE_ENV).as_deref() {
            Ok("keyring") => StorePreference::Keyring,
            Ok("file") => StorePreference::File,
            _ => StorePreference::Auto,
        }
    }
}

/// Which store holds newly written secrets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BackendKind {
    OsKeyring,
    EncryptedFile,
}

impl BackendKind {
    fn as_str(self) -> &'static str {
        match self {
            BackendKind::OsKeyring => "os_keyring",
            BackendKind::EncryptedFile => "encrypted_file",
        }
    }
}

/// What the UI shows about the secret store in use.
#[derive(Debug, Clone, Serialize)]
pub struct SecretStoreInfo {
    pub kind: BackendKind,
    pub label: String,
    pub detail: String,
}

/// Who a secret belongs to: e.g. scope `integration`, the integration's id, field `password`.
#[derive(Debug, Clone, Copy)]
pub struct SecretRef<'a> {
    pub scope: &'a str,
    pub owner_id: i64,
    pub field: &'a str,
}

impl SecretRef<'_> {
    /// Associated data for encryption and the keyring user name: binds a ciphertext to its
    /// owner, so a ciphertext copied onto another row fails to decrypt.
    fn label(&self) -> String {
        format!("{}:{}:{}", self.scope, self.owner_id, self.field)
    }
}

/// The secret store chosen at start-up.
pub struct Vault {
    keyring: Option<keyring::KeyringBackend>,
    file: encrypted::FileBackend,
    /// Why the keyring is not in use, when it is not.
    keyring_problem: Option<String>,
}

impl Vault {
    /// Chooses the backend: the OS keyring if reachable (or forced with
    /// `SUPPORTBOT_SECRET_STORE=keyring`), else the encrypted file.
    pub fn open(data_dir: &Path, vault_id: &str, preference: StorePreference) -> CoreResult<Vault> {
        let file = encrypted::FileBackend::new(data_dir);
        let (keyring, keyring_problem) = match preference {
            StorePreference::File => (None, Some(format!("{SECRET_STORE_ENV}=file chose the encrypted file"))),
            _ => match keyring::KeyringBackend::probe(vault_id) {
                Ok(k) => (Some(k), None),
                Err(problem) if preference == StorePreference::Keyring => {
                    return Err(CoreError::new(
                        ErrorCode::SecretStoreUnavailable,
                        format!("{SECRET_STORE_ENV}=keyring but the OS keyring is unreachable: {problem}. Unlock or start your keyring, or unset {SECRET_STORE_ENV}."),
                    ))
                }
                Err(problem) => {
                    tracing::warn!(%problem, "OS keyring unreachable; using the encrypted file store");
                    (None, Some(problem))
                }
            },
        };
        Ok(Vault {
            keyring,
            file,
            keyring_problem,
        })
    }

    pub fn backend(&self) -> BackendKind {
        if self.keyring.is_some() {
            BackendKind::OsKeyring
        } else {
            BackendKind::EncryptedFile
        }
    }

    pub fn info(&self) -> SecretStoreInfo {
        match self.backend() {
            BackendKind::OsKeyring => SecretStoreInfo {
                kind: BackendKind::OsKeyring,
                label: "OS keyring".into(),
                detail: "Credentials are kept in your operating system's keyring (Secret Service, Keychain or Credential Manager), which encrypts them and unlocks with your login. The app's database only records that a credential is set.".into(),
            },
            BackendKind::EncryptedFile => SecretStoreInfo {
                kind: BackendKind::EncryptedFile,
                label: "Encrypted file".into(),
                detail: format!(
                    "No OS keyring is reachable ({}). Credentials are encrypted (XChaCha20-Poly1305) in the app's database with a key in {}, readable only by your user. This protects a copied or shared database, not against someone who can read your files. Start or unlock a keyring and restart the app to use it.",
                    self.keyring_problem.as_deref().unwrap_or("unknown reason"),
                    self.file.key_path().display()
                ),
            },
        }
    }

    /// Stores `value`, replacing any previous value wherever it was kept.
    pub fn put(&self, conn: &Connection, r: SecretRef<'_>, value: &SecretString) -> CoreResult<()> {
        let previous = stored_backend(conn, r)?;
        let now = now_rfc3339();
        match &self.keyring {
            Some(k) => {
                k.set(&r.label(), value)?;
                conn.execute(
                    "INSERT INTO secrets (scope, owner_id, field, backend, nonce, ciphertext, updated_at)
                     VALUES (?1, ?2, ?3, 'os_keyring', NULL, NULL, ?4)
                     ON CONFLICT(scope, owner_id, field) DO UPDATE SET
                       backend = 'os_keyring', nonce = NULL, ciphertext = NULL, updated_at = ?4",
                    rusqlite::params![r.scope, r.owner_id, r.field, now],
                )?;
            }
            None => {
                let (nonce, ciphertext) = self.file.encrypt(&r.label(), value)?;
                conn.execute(
                    "INSERT INTO secrets (scope, owner_id, field, backend, nonce, ciphertext, updated_at)
                     VALUES (?1, ?2, ?3, 'encrypted_file', ?4, ?5, ?6)
                     ON CONFLICT(scope, owner_id, field) DO UPDATE SET
                       backend = 'encrypted_file', nonce = ?4, ciphertext = ?5, updated_at = ?6",
                    rusqlite::params![r.scope, r.owner_id, r.field, nonce, ciphertext, now],
                )?;
                // A value moved off the keyring must not linger there.
                if previous == Some(BackendKind::OsKeyring) {
                    tracing::warn!(secret = %r.label(), "secret moved from the OS keyring to the encrypted file; the old keyring entry could not be removed because the keyring is unreachable");
                }
            }
        }
        Ok(())
    }

    /// Reads a secret, `None` when it is not set.
    pub fn get(&self, conn: &Connection, r: SecretRef<'_>) -> CoreResult<Option<SecretString>> {
        let row: Option<StoredRow> = conn
            .query_row(
                "SELECT backend, nonce, ciphertext FROM secrets WHERE scope = ?1 AND owner_id = ?2 AND field = ?3",
                rusqlite::params![r.scope, r.owner_id, r.field],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()?;
        let Some((backend, nonce, ciphertext)) = row else {
            return Ok(None);
        };
        match backend.as_str() {
            "os_keyring" => match &self.keyring {
                Some(k) => k.get(&r.label()),
                None => Err(CoreError::new(
                    ErrorCode::SecretStoreUnavailable,
                    format!("The {} of this integration is stored in the OS keyring, which is not reachable now. Unlock or start your keyring and restart the app, or enter the credential again.", r.field.replace('_', " ")),
                )),
            },
            _ => {
                let (Some(nonce), Some(ciphertext)) = (nonce, ciphertext) else {
                    return Err(CoreError::internal("A stored credential is incomplete. Enter it again."));
                };
                self.file.decrypt(&r.label(), &nonce, &ciphertext).map(Some)
            }
        }
    }

    /// Whether a secret is set (without reading it).
    pub fn is_set(&self, conn: &Connection, r: SecretRef<'_>) -> CoreResult<bool> {
        Ok(stored_backend(conn, r)?.is_some())
    }

    /// Removes a secret wherever it is kept. Removing an unset secret is not an error.
    pub fn delete(&self, conn: &Connection, r: SecretRef<'_>) -> CoreResult<()> {
        if stored_backend(conn, r)? == Some(BackendKind::OsKeyring) {
            match &self.keyring {
                Some(k) => k.delete(&r.label())?,
                None => {
                    tracing::warn!(secret = %r.label(), "could not remove a keyring entry: the keyring is unreachable")
                }
            }
        }
        conn.execute(
            "DELETE FROM secrets WHERE scope = ?1 AND owner_id = ?2 AND field = ?3",
            rusqlite::params![r.scope, r.owner_id, r.field],
        )?;
        Ok(())
    }
}

/// A `secrets` row: backend, nonce, ciphertext.
type StoredRow = (String, Option<Vec<u8>>, Option<Vec<u8>>);

fn stored_backend(conn: &Connection, r: SecretRef<'_>) -> CoreResult<Option<BackendKind>> {
    let backend: Option<String> = conn
        .query_row(
            "SELECT backend FROM secrets WHERE scope = ?1 AND owner_id = ?2 AND field = ?3",
            rusqlite::params![r.scope, r.owner_id, r.field],
            |row| row.get(0),
        )
        .optional()?;
    Ok(backend.map(|b| {
        if b == BackendKind::OsKeyring.as_str() {
            BackendKind::OsKeyring
        } else {
            BackendKind::EncryptedFile
        }
    }))
}
