//! Secrets: the encrypted-file fallback and the OS keyring (a real Secret Service), round trip
//! and no plaintext anywhere in the data directory.

mod common;

use common::{admin, basic, core_with, dir_contains, file_core};
use secrecy::ExposeSecret;
use supportbot_core::integrations::{IntegrationPatch, SecretField};
use supportbot_core::secrets::{BackendKind, StorePreference, KEY_FILE};
use supportbot_core::store::{open_connection, DB_FILE};
use supportbot_core::{Core, ErrorCode};

const PLAINTEXT: &str = "correct-horse-battery-staple-4711";

#[test]
fn file_store_round_trips_and_never_writes_plaintext() {
    let (dir, core) = file_core();
    assert_eq!(core.secret_store().kind, BackendKind::EncryptedFile);
    let i = core
        .add_integration(&admin(&core), basic("Prod", PLAINTEXT))
        .unwrap();
    drop(core);

    // A fresh process (new Core) reads it back.
    let core = Core::open_with(dir.path(), StorePreference::File).unwrap();
    let value = core
        .integration_secret(i.id, SecretField::Password)
        .unwrap()
        .unwrap();
    assert_eq!(value.expose_secret(), PLAINTEXT);

    // Checkpoint the WAL so the main file holds everything, then search every file.
    open_connection(&dir.path().join(DB_FILE))
        .unwrap()
        .pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    assert!(dir_contains(dir.path(), PLAINTEXT.as_bytes()).is_empty());

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "key file must be owner-only, got {mode:o}");
    }
}

#[test]
fn ciphertext_is_bound_to_its_owner() {
    let (dir, core) = file_core();
    let a = admin(&core);
    let one = core.add_integration(&a, basic("One", "pw-one")).unwrap();
    let two = core.add_integration(&a, basic("Two", "pw-two")).unwrap();
    // Copy One's ciphertext onto Two's row: decryption must fail, not return One's password.
    let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
    conn.execute(
        "UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE owner_id = ?1), ciphertext = (SELECT ciphertext FROM secrets WHERE owner_id = ?1) WHERE owner_id = ?2",
        [one.id, two.id],
    )
    .unwrap();
    let err = core
        .integration_secret(two.id, SecretField::Password)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SecretStoreUnavailable);
    assert!(!err.message.contains("pw-one"));
}

#[test]
fn a_replaced_key_file_is_reported_not_misread() {
    let (dir, core) = file_core();
    let i = core
        .add_integration(&admin(&core), basic("Prod", PLAINTEXT))
        .unwrap();
    drop(core);
    std::fs::write(dir.path().join(KEY_FILE), [7u8; 32]).unwrap();
    let core = Core::open_with(dir.path(), StorePreference::File).unwrap();
    let err = core
        .integration_secret(i.id, SecretField::Password)
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::SecretStoreUnavailable);
    assert!(err.message.contains(KEY_FILE));
}

/// Needs a reachable Secret Service (the test command starts gnome-keyring headless). Set
/// `SUPPORTBOT_REQUIRE_KEYRING=1` to fail instead of skipping when there is none.
#[test]
fn os_keyring_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let core = match Core::open_with(dir.path(), StorePreference::Keyring) {
        Ok(core) => core,
        Err(e) if std::env::var("SUPPORTBOT_REQUIRE_KEYRING").as_deref() != Ok("1") => {
            eprintln!("skipping os_keyring_round_trip: {e}");
            return;
        }
        Err(e) => panic!("keyring required but unreachable: {e}"),
    };
    assert_eq!(core.secret_store().kind, BackendKind::OsKeyring);
    let a = admin(&core);
    let i = core
        .add_integration(&a, basic("Keyring", PLAINTEXT))
        .unwrap();
    assert!(i.secrets.password);
    drop(core);

    let core = Core::open_with(dir.path(), StorePreference::Keyring).unwrap();
    assert_eq!(
        core.integration_secret(i.id, SecretField::Password)
            .unwrap()
            .unwrap()
            .expose_secret(),
        PLAINTEXT
    );

    // The database only records that the secret is set.
    let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
    let (backend, ciphertext): (String, Option<Vec<u8>>) = conn
        .query_row(
            "SELECT backend, ciphertext FROM secrets WHERE owner_id = ?1",
            [i.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(backend, "os_keyring");
    assert!(ciphertext.is_none());
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .unwrap();
    assert!(dir_contains(dir.path(), PLAINTEXT.as_bytes()).is_empty());
    assert!(
        !dir.path().join(KEY_FILE).exists(),
        "no key file when the keyring is used"
    );

    core.edit_integration(
        &admin(&core),
        i.id,
        IntegrationPatch {
            password: common::secret("rotated-pw"),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(
        core.integration_secret(i.id, SecretField::Password)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "rotated-pw"
    );

    // Deleting removes the keyring entry: a new integration reusing nothing reads no value.
    core.remove_integration(&admin(&core), i.id).unwrap();
    assert!(core
        .integration_secret(i.id, SecretField::Password)
        .unwrap()
        .is_none());
}

#[test]
fn auto_preference_picks_a_working_store() {
    let (_dir, core) = core_with(StorePreference::Auto);
    let i = core
        .add_integration(&admin(&core), basic("Auto", "auto-pw"))
        .unwrap();
    assert_eq!(
        core.integration_secret(i.id, SecretField::Password)
            .unwrap()
            .unwrap()
            .expose_secret(),
        "auto-pw"
    );
}
