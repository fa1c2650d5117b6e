//! The OS keyring backend (keyring-core with the platform's store crate).

use std::sync::Arc;
use std::time::Duration;

use keyring_core::{CredentialStore, Entry, Error as KeyringError};
use secrecy::{ExposeSecret, SecretString};

use crate::error::{CoreError, CoreResult, ErrorCode};

/// Service name of every entry the app writes.
const SERVICE: &str = "Support Bot Desktop";

/// A keyring that answered a probe. Entries are named `<vault id>:<scope>:<owner>:<field>`, so
/// two data directories (e.g. tests and the real app) never share entries.
pub(super) struct KeyringBackend {
    store: Arc<CredentialStore>,
    vault_id: String,
}

impl KeyringBackend {
    /// Connects to the platform store and reads a probe entry. A store that connects but is
    /// locked only fails on access, so the probe reads; it runs on a thread with a deadline
    /// because a misconfigured D-Bus can hang.
    pub(super) fn probe(vault_id: &str) -> Result<KeyringBackend, String> {
        let (tx, rx) = std::sync::mpsc::channel();
        let id = vault_id.to_string();
        std::thread::spawn(move || {
            let result = platform_store().and_then(|store| {
                let entry = store
                    .build(SERVICE, &format!("{id}:probe"), None)
                    .map_err(describe)?;
                match entry.get_password() {
                    Ok(_) | Err(KeyringError::NoEntry) => Ok(store),
                    Err(e) => Err(describe(e)),
                }
            });
            let _ = tx.send(result);
        });
        let store = rx
            .recv_timeout(Duration::from_secs(5))
            .map_err(|_| "the keyring did not answer within 5 seconds".to_string())??;
        Ok(KeyringBackend {
            store,
            vault_id: vault_id.to_string(),
        })
    }

    fn entry(&self, label: &str) -> CoreResult<Entry> {
        self.store
            .build(SERVICE, &format!("{}:{label}", self.vault_id), None)
            .map_err(unavailable)
    }

    pub(super) fn set(&self, label: &str, value: &SecretString) -> CoreResult<()> {
        self.entry(label)?
            .set_password(value.expose_secret())
            .map_err(unavailable)
    }

    pub(super) fn get(&self, label: &str) -> CoreResult<Option<SecretString>> {
        match self.entry(label)?.get_password() {
            Ok(p) => Ok(Some(SecretString::from(p))),
            Err(KeyringError::NoEntry) => Err(CoreError::new(
                ErrorCode::SecretStoreUnavailable,
                "A credential recorded as set is missing from the OS keyring (it may have been removed outside the app). Edit the integration and enter it again.",
            )),
            Err(e) => Err(unavailable(e)),
        }
    }

    pub(super) fn delete(&self, label: &str) -> CoreResult<()> {
        match self.entry(label)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(e) => Err(unavailable(e)),
        }
    }
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    let store: Arc<CredentialStore> =
        zbus_secret_service_keyring_store::Store::new().map_err(describe)?;
    Ok(store)
}

#[cfg(not(target_os = "linux"))]
fn platform_store() -> Result<Arc<CredentialStore>, String> {
    Err("this build has no keyring store for this operating system".to_string())
}

/// A short, secret-free description of a keyring failure.
fn describe(e: KeyringError) -> String {
    match e {
        KeyringError::NoStorageAccess(_) => "the keyring is locked or access was refused".into(),
        KeyringError::PlatformFailure(inner) => format!("the keyring service failed ({inner})"),
        KeyringError::NoDefaultStore => "no keyring store is configured".into(),
        // These two carry the stored bytes: never format them.
        KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
            "the stored value is not in the expected format".into()
        }
        other => other.to_string(),
    }
}

fn unavailable(e: KeyringError) -> CoreError {
    CoreError::new(
        ErrorCode::SecretStoreUnavailable,
        format!(
            "The OS keyring failed: {}. Unlock your keyring and try again.",
            describe(e)
        ),
    )
}
