//! The fallback secret store: XChaCha20-Poly1305 with a 32-byte key in an owner-only file.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// Key file name inside the data directory.
pub const KEY_FILE: &str = "secrets.key";

pub(super) struct FileBackend {
    key_path: PathBuf,
    /// Loaded on first use, so a keyring user never creates the file.
    key: OnceLock<Zeroizing<[u8; 32]>>,
}

impl FileBackend {
    pub(super) fn new(data_dir: &Path) -> Self {
        FileBackend {
            key_path: data_dir.join(KEY_FILE),
            key: OnceLock::new(),
        }
    }

    pub(super) fn key_path(&self) -> &Path {
        &self.key_path
    }

    fn cipher(&self) -> CoreResult<XChaCha20Poly1305> {
        let key = match self.key.get() {
            Some(key) => key,
            None => {
                let _ = self.key.set(load_or_create_key(&self.key_path)?);
                self.key
                    .get()
                    .ok_or_else(|| CoreError::internal("The credential key could not be loaded."))?
            }
        };
        XChaCha20Poly1305::new_from_slice(key.as_ref())
            .map_err(|_| CoreError::internal("The credential key has the wrong length."))
    }

    pub(super) fn encrypt(
        &self,
        aad: &str,
        value: &SecretString,
    ) -> CoreResult<(Vec<u8>, Vec<u8>)> {
        let mut nonce = [0u8; 24];
        rand::rng().fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()?
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: value.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| CoreError::internal("Encrypting a credential failed."))?;
        Ok((nonce.to_vec(), ciphertext))
    }

    pub(super) fn decrypt(
        &self,
        aad: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> CoreResult<SecretString> {
        let nonce = XNonce::try_from(nonce)
            .map_err(|_| CoreError::internal("A stored credential is damaged. Enter it again."))?;
        let plain = Zeroizing::new(
            self.cipher()?
                .decrypt(
                    &nonce,
                    Payload {
                        msg: ciphertext,
                        aad: aad.as_bytes(),
                    },
                )
                .map_err(|_| {
                    CoreError::new(
                        ErrorCode::SecretStoreUnavailable,
                        format!("A stored credential cannot be decrypted: the key file {} is not the one it was saved with. Restore that file, or enter the credential again.", self.key_path.display()),
                    )
                })?,
        );
        let text = String::from_utf8(plain.to_vec())
            .map_err(|_| CoreError::internal("A stored credential is damaged. Enter it again."))?;
        Ok(SecretString::from(text))
    }
}

fn load_or_create_key(path: &Path) -> CoreResult<Zeroizing<[u8; 32]>> {
    let unreadable = |e: std::io::Error| {
        CoreError::new(
            ErrorCode::SecretStoreUnavailable,
            format!(
                "Cannot use the credential key file {}: {e}. Check its permissions.",
                path.display()
            ),
        )
    };
    match std::fs::read(path) {
        Ok(bytes) => {
            let bytes = Zeroizing::new(bytes);
            let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| {
                CoreError::new(
                    ErrorCode::SecretStoreUnavailable,
                    format!("The credential key file {} is damaged (wrong length). Restore it from a backup, or delete it and enter your credentials again.", path.display()),
                )
            })?;
            Ok(Zeroizing::new(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // Written whole to a private temporary file (O_EXCL, 0600), then linked into place:
            // the key file appears complete or not at all (a crash never leaves a short one),
            // and of two processes creating it at once, the second reads the first's key.
            let mut key = Zeroizing::new([0u8; 32]);
            rand::rng().fill_bytes(key.as_mut());
            let mut suffix = [0u8; 8];
            rand::rng().fill_bytes(&mut suffix);
            let tmp = path.with_extension(format!("tmp-{}", hex::encode(suffix)));
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let written = (|| {
                let mut file = opts.open(&tmp)?;
                file.write_all(key.as_ref())?;
                file.sync_all()?;
                std::fs::hard_link(&tmp, path)
            })();
            let _ = std::fs::remove_file(&tmp);
            match written {
                Ok(()) => Ok(key),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load_or_create_key(path),
                Err(e) => Err(unreadable(e)),
            }
        }
        Err(e) => Err(unreadable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_created_once_whole_and_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(KEY_FILE);
        let keys: Vec<[u8; 32]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| s.spawn(|| *load_or_create_key(&path).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(keys.windows(2).all(|w| w[0] == w[1]), "one key for all");
        assert_eq!(std::fs::read(&path).unwrap(), keys[0]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary files left");
    }
}
