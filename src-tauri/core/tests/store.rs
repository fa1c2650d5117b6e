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

#[test]
fn the_integrations_rebuild_keeps_rows_and_never_reuses_a_deleted_id() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    {
        let mut conn = open_connection(&path).unwrap();
        migrate_to(&mut conn, 10).unwrap();
        for name in ["Kept", "Deleted"] {
            conn.execute(
                "INSERT INTO integrations (name, kind, auth, url, username, created_at, updated_at, schedule_minutes, filters_json)
                 VALUES (?1, 'servicenow', 'oauth2', 'https://acme.service-now.com', 'svc', 't', 't', 60, '{\"priority\":[\"1\"]}')",
                [name],
            )
            .unwrap();
        }
        conn.execute("DELETE FROM integrations WHERE name = 'Deleted'", [])
            .unwrap();
        migrate(&mut conn).unwrap();
        let (id, auth, schedule, filters, listing): (i64, String, u32, String, u32) = conn
            .query_row(
                "SELECT id, auth, schedule_minutes, filters_json, syncs_since_listing FROM integrations WHERE name = 'Kept'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
            )
            .unwrap();
        assert_eq!((id, auth.as_str(), schedule, listing), (1, "oauth2", 60, 0));
        assert!(filters.contains("priority"));
        // The new auth type is accepted now, and the deleted integration's id 2 stays unused.
        conn.execute(
            "INSERT INTO integrations (name, kind, auth, url, client_id, created_at, updated_at)
             VALUES ('New', 'servicenow', 'oauth2_client_credentials', 'https://acme.service-now.com', 'c', 't', 't')",
            [],
        )
        .unwrap();
        assert_eq!(conn.last_insert_rowid(), 3);
    }
}
