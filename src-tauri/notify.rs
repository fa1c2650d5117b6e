//! Desktop notifications: a sync finished or failed while the window was not in front.

use supportbot_core::sync::{SyncOutcome, SyncReport};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;

/// Tells the user how a sync of `name` ended, unless they are looking at the window already
/// (the card shows it there). Without a notification daemon this is a no-op.
pub(crate) fn sync_finished(app: &AppHandle, name: &str, report: &SyncReport) {
    let focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if focused {
        return;
    }
    let (title, body) = match report.status {
        SyncOutcome::Success => (
            format!("{name} synced"),
            format!(
                "{} added, {} updated · {} in the knowledge base",
                report.added, report.updated, report.total
            ),
        ),
        SyncOutcome::Partial => (
            format!("{name} synced with problems"),
            format!(
                "{} records skipped. Open the integration for details.",
                report.skipped
            ),
        ),
        SyncOutcome::Error => (
            format!("{name} sync failed"),
            report
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        ),
        SyncOutcome::Cancelled => return,
    };
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "notification not shown");
    }
}
