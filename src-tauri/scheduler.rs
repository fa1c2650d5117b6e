//! Runs automatic syncs while the app is open: every 30 s, each due integration once.

use std::sync::Arc;
use std::time::Duration;

use supportbot_core::{Core, ErrorCode};
use tauri::{AppHandle, Emitter};

/// How often due schedules are checked; schedules are in minutes, so this is precise enough.
const TICK: Duration = Duration::from_secs(30);

/// Event telling the window that integrations changed outside its own actions.
pub(crate) const INTEGRATIONS_CHANGED: &str = "integrations-changed";

pub(crate) fn spawn(app: AppHandle, core: Arc<Core>) {
    tauri::async_runtime::spawn(async move {
        loop {
            tokio::time::sleep(TICK).await;
            let due = match core.due_scheduled_syncs(time::OffsetDateTime::now_utc()) {
                Ok(due) => due,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read sync schedules");
                    continue;
                }
            };
            for id in due {
                let name = core.integration_name(id).unwrap_or_default();
                let _ = app.emit(INTEGRATIONS_CHANGED, id);
                match core.run_scheduled_sync(id).await {
                    Ok(report) => crate::notify::sync_finished(&app, &name, &report),
                    // A manual sync started first: it covers this interval.
                    Err(e) if e.code == ErrorCode::SyncRunning => {}
                    Err(e) => {
                        tracing::warn!(integration = %name, error = %e, "scheduled sync could not start")
                    }
                }
                let _ = app.emit(INTEGRATIONS_CHANGED, id);
            }
        }
    });
}
