//! Commands for the app frame: who is acting, the secret store, the data directory.

use supportbot_core::{AppStatus, CoreError};
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, CoreError> {
    let core = state.core.clone();
    let actor = state
        .session
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    blocking(move || core.status(actor.as_ref())).await
}
