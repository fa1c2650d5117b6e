//! Numbered SQL migrations, each applied in its own transaction; `PRAGMA user_version` records
//! the last one applied.

use rusqlite::Connection;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// The migrations, in order. Append only: a released migration is never edited.
const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        include_str!("../../migrations/0001_profiles_settings.sql"),
    ),
    (2, include_str!("../../migrations/0002_integrations.sql")),
    (3, include_str!("../../migrations/0003_knowledge_base.sql")),
    (4, include_str!("../../migrations/0004_sync_schedule.sql")),
    (5, include_str!("../../migrations/0005_sync_filters.sql")),
    (6, include_str!("../../migrations/0006_search.sql")),
    (7, include_str!("../../migrations/0007_versions.sql")),
    (8, include_str!("../../migrations/0008_chat.sql")),
    (
        9,
        include_str!("../../migrations/0009_chat_session_details.sql"),
    ),
    (10, include_str!("../../migrations/0010_bot_answers.sql")),
    (11, include_str!("../../migrations/0011_sync_network.sql")),
    (
        12,
        include_str!("../../migrations/0012_version_source_counts.sql"),
    ),
];

/// The schema version this build writes.
pub const LATEST_VERSION: u32 = MIGRATIONS[MIGRATIONS.len() - 1].0;

pub fn schema_version(conn: &Connection) -> CoreResult<u32> {
    Ok(conn.pragma_query_value(None, "user_version", |r| r.get(0))?)
}

/// Applies every pending migration.
pub fn migrate(conn: &mut Connection) -> CoreResult<()> {
    migrate_to(conn, LATEST_VERSION)
}

/// Applies pending migrations up to and including `target`. Refuses a database written by a
/// newer version of the app rather than guessing at its schema.
pub fn migrate_to(conn: &mut Connection, target: u32) -> CoreResult<()> {
    let current = schema_version(conn)?;
    if current > LATEST_VERSION {
        return Err(CoreError::new(
            ErrorCode::Storage,
            format!("This data directory was written by a newer version of Support Bot (schema {current}, this build knows {LATEST_VERSION}). Update the app, or point SUPPORTBOT_DATA_DIR at another directory."),
        ));
    }
    for (version, sql) in MIGRATIONS {
        if *version <= current || *version > target {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql).map_err(|e| {
            CoreError::new(
                ErrorCode::Storage,
                format!("Database migration {version} failed: {e}. The database was left unchanged; report this with the log file."),
            )
        })?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(())
}
