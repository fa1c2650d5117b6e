//! The SQLite file: opening it with the pragmas the app relies on, and the migrations.

mod migrate;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::Connection;

pub use migrate::{migrate, migrate_to, schema_version, LATEST_VERSION};

use crate::error::CoreResult;

/// File name of the database inside the data directory.
pub const DB_FILE: &str = "supportbot.sqlite3";

/// The app database. Holds one connection for interactive operations; long jobs (syncs) open
/// their own with [`open_connection`] so they never block the UI's connection for long.
pub struct Db {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Db {
    /// Opens (creating if needed) the database in `data_dir` and applies pending migrations.
    pub fn open(data_dir: &Path) -> CoreResult<Db> {
        let path = data_dir.join(DB_FILE);
        let mut conn = open_connection(&path)?;
        migrate(&mut conn)?;
        Ok(Db {
            path,
            conn: Mutex::new(conn),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The shared connection. A panic while holding it cannot leave a transaction open
    /// (rusqlite rolls back on drop), so a poisoned lock is safe to reuse.
    pub fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Opens a connection with WAL, a busy timeout and foreign keys on.
pub fn open_connection(path: &Path) -> CoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    // WAL lets readers (the UI) proceed while a sync writes; NORMAL is durable in WAL mode
    // except for the last transactions on power loss, never corrupting.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Delete triggers also fire for rows that `INSERT OR REPLACE` removes, so the full-text
    // index (maintained by triggers on `incidents`, migration 0006) cannot keep a stale entry.
    conn.pragma_update(None, "recursive_triggers", "ON")?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    }
    Ok(conn)
}

/// Reads a setting.
pub fn get_setting(conn: &Connection, key: &str) -> CoreResult<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
            r.get(0)
        })
        .optional()?)
}

/// Writes a setting.
pub fn set_setting(conn: &Connection, key: &str, value: &str) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
