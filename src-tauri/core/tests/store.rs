//! Database file and migrations: fresh install, upgrade from an older schema, newer refused.

mod common;

use supportbot_core::store::{
    migrate, migrate_to, open_connection, schema_version, DB_FILE, LATEST_VERSION,
};
use supportbot_core::ErrorCode;

#[test]
fn fresh_database_is_fully_migrated_in_wal_mode() {
    let (dir, core) = common::file_core();
    let conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
    assert_eq!(schema_version(&conn).unwrap(), LATEST_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let timeout: i64 = conn
        .pragma_query_value(None, "busy_timeout", |r| r.get(0))
        .unwrap();
    assert!(timeout >= 1000, "busy_timeout {timeout}");
    let profiles = core.profiles().unwrap();
    assert_eq!(profiles.len(), 1);
    assert_eq!(profiles[0].name, "Admin");
    assert!(profiles[0].active);
}

#[test]
fn upgrade_from_version_1_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let mut conn = open_connection(&path).unwrap();
        migrate_to(&mut conn, 1).unwrap();
        assert_eq!(schema_version(&conn).unwrap(), 1);
        conn.execute(
            "INSERT INTO profiles (name, role, password_hash, created_at) VALUES ('Ops', 'operator', NULL, '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
        let has_integrations: bool = conn
            .query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE name = 'integrations')",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(!has_integrations);
    }
    let core = supportbot_core::Core::open_with(
        dir.path(),
        supportbot_core::secrets::StorePreference::File,
    )
    .unwrap();
    let names: Vec<String> = core
        .profiles()
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["Admin", "Ops"]);
    let admin = common::admin(&core);
    core.add_integration(&admin, common::basic("After upgrade", "pw-1"))
        .unwrap();
    let conn = open_connection(&path).unwrap();
    assert_eq!(schema_version(&conn).unwrap(), LATEST_VERSION);
}

#[test]
fn migrating_twice_is_a_no_op() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = open_connection(&dir.path().join(DB_FILE)).unwrap();
    migrate(&mut conn).unwrap();
    migrate(&mut conn).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM profiles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn database_from_a_newer_version_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let mut conn = open_connection(&path).unwrap();
        migrate(&mut conn).unwrap();
        conn.pragma_update(None, "user_version", LATEST_VERSION + 1)
            .unwrap();
    }
    let err = supportbot_core::Core::open(dir.path())
        .err()
        .expect("must refuse");
    assert_eq!(err.code, ErrorCode::Storage);
    assert!(err.message.contains("newer version"), "{}", err.message);
    let conn = open_connection(&path).unwrap();
    assert_eq!(schema_version(&conn).unwrap(), LATEST_VERSION + 1);
}
