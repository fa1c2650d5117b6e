//! Where the app keeps its data: the OS app-data directory, or `SUPPORTBOT_DATA_DIR`.

use std::path::PathBuf;

use crate::error::{CoreError, CoreResult, ErrorCode};

/// Environment variable that overrides the data directory (tests, portable installs).
pub const DATA_DIR_ENV: &str = "SUPPORTBOT_DATA_DIR";

/// The data directory: `$SUPPORTBOT_DATA_DIR` if set and non-empty, else the OS app-data
/// directory (e.g. `~/.local/share/supportbot` on Linux).
pub fn data_dir() -> CoreResult<PathBuf> {
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "supportbot", "supportbot")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| {
            CoreError::new(
                ErrorCode::Storage,
                format!("Could not find a home directory for the app's data. Set {DATA_DIR_ENV} to a writable directory."),
            )
        })
}

/// Creates the data directory (owner-only on Unix) if it does not exist.
pub fn ensure_dir(dir: &std::path::Path) -> CoreResult<()> {
    std::fs::create_dir_all(dir).map_err(|e| {
        CoreError::new(
            ErrorCode::Storage,
            format!("Cannot create the data directory {}: {e}. Choose a writable location with {DATA_DIR_ENV}.", dir.display()),
        )
    })?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    Ok(())
}
