//! Build script: embeds tauri.conf.json and generates permissions for the app's own commands,
//! so the window's capability can grant exactly those (least privilege).

/// Every `#[tauri::command]` of the app. A command missing here cannot be granted and fails
/// at run time with a permission error; keep in step with `commands::handler`.
const COMMANDS: &[&str] = &[
    "app_status",
    "open_external",
    "kb_stats",
    "kb_search",
    "kb_facets",
    "kb_versions",
    "kb_version",
    "kb_incident",
    "kb_rollback",
    "kb_check",
    "kb_rebuild",
    "kb_gaps",
    "integration_check",
    "integration_check_draft",
    "chat_settings",
    "chat_settings_save",
    "chat_session",
    "chat_new",
    "chat_send",
    "chat_reply",
    "chat_start",
    "chat_switch",
    "chat_attach",
    "chat_escalate",
    "chat_cancel",
    "chat_end",
    "chat_keep_waiting",
    "chat_feedback",
    "chat_image",
    "chat_stats",
    "integrations_list",
    "integration_add",
    "integration_edit",
    "integration_set_enabled",
    "integration_remove",
    "integration_sync",
    "integration_sync_cancel",
    "profiles_list",
    "profile_add",
    "profile_switch",
    "profile_remove",
    "profile_set_password",
];

fn main() {
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri-build failed: is ui/dist built? run `npm --prefix ui run build`");
}
