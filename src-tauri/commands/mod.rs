//! Thin `#[tauri::command]`s, one file per UI area: each resolves the acting profile and
//! delegates to one core call on a blocking thread (the core does SQLite and keyring I/O).

mod app;
mod chat;
mod integrations;
mod kb;
mod profiles;

use supportbot_core::{CoreError, CoreResult};

/// Every command, for the builder. Keep in step with `COMMANDS` in build.rs.
pub(crate) fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app::app_status,
        app::open_external,
        chat::chat_settings,
        chat::chat_settings_save,
        chat::chat_session,
        chat::chat_new,
        chat::chat_send,
        chat::chat_reply,
        chat::chat_start,
        chat::chat_switch,
        chat::chat_attach,
        chat::chat_escalate,
        chat::chat_cancel,
        chat::chat_end,
        chat::chat_keep_waiting,
        chat::chat_feedback,
        chat::chat_image,
        kb::chat_stats,
        integrations::integrations_list,
        integrations::integration_add,
        integrations::integration_edit,
        integrations::integration_set_enabled,
        integrations::integration_remove,
        integrations::integration_sync,
        integrations::integration_sync_cancel,
        integrations::integration_check,
        integrations::integration_check_draft,
        kb::kb_stats,
        kb::kb_search,
        kb::kb_facets,
        kb::kb_versions,
        kb::kb_version,
        kb::kb_incident,
        kb::kb_rollback,
        kb::kb_check,
        kb::kb_rebuild,
        kb::kb_gaps,
        profiles::profiles_list,
        profiles::profile_add,
        profiles::profile_switch,
        profiles::profile_remove,
        profiles::profile_set_password,
    ]
}

/// Runs a core call off the async runtime's worker threads.
pub(crate) async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CoreResult<T> + Send + 'static,
) -> Result<T, CoreError> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| CoreError::internal(format!("A background task failed: {e}")))?
}
