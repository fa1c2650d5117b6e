//! Commands for the app frame: who is acting, the secret store, the data directory.

use supportbot_core::{AppStatus, CoreError};
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, CoreError> {
    let core = state.core.clone();
    let actor = state.actor_if_unlocked().await;
    blocking(move || core.status(actor.as_ref())).await
}

/// Opens an http(s) link (a source record) in the system's browser. Only http and https are
/// accepted, so a crafted record link cannot launch a local file or another URL handler.
#[tauri::command]
pub async fn open_external(url: String) -> Result<(), CoreError> {
    crate::external::open_in_browser(&url)
}
