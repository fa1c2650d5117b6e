//! Structured logs (tracing) to a daily-rotated file in the data directory.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// How many daily log files are kept.
const KEEP_FILES: usize = 7;

/// Starts logging to `<data_dir>/logs/supportbot.<date>.log` as JSON lines. Keep the guard
/// alive for the process's life: dropping it flushes the log. `RUST_LOG` sets the filter
/// (default `info`). Invariant: nothing logs a secret; secret values are `SecretString`s whose
/// Debug output is redacted.
pub fn init(data_dir: &Path) -> Option<WorkerGuard> {
    let dir = data_dir.join("logs");
    // The appender prunes old files by listing the directory; it must exist first.
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("supportbot")
        .filename_suffix("log")
        .max_log_files(KEEP_FILES)
        .build(dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_writer(writer)
        .try_init()
        .ok()?;
    Some(guard)
}
