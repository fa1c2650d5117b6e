//! Commands of Settings > Integrations.

use supportbot_core::integrations::{Integration, IntegrationPatch, NewIntegration};
use supportbot_core::CoreError;
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn integrations_list(state: State<'_, AppState>) -> Result<Vec<Integration>, CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.list_integrations(&actor)).await
}

#[tauri::command]
pub async fn integration_add(
    state: State<'_, AppState>,
    input: NewIntegration,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.add_integration(&actor, input)).await
}

#[tauri::command]
pub async fn integration_edit(
    state: State<'_, AppState>,
    id: i64,
    patch: IntegrationPatch,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.edit_integration(&actor, id, patch)).await
}

#[tauri::command]
pub async fn integration_set_enabled(
    state: State<'_, AppState>,
    id: i64,
    enabled: bool,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.set_integration_enabled(&actor, id, enabled)).await
}

#[tauri::command]
pub async fn integration_remove(state: State<'_, AppState>, id: i64) -> Result<(), CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.remove_integration(&actor, id)).await
}

#[tauri::command]
pub async fn integration_sync(state: State<'_, AppState>, id: i64) -> Result<(), CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.request_sync(&actor, id)).await
}
