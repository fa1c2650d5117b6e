//! Commands of Settings > Integrations.

use supportbot_core::integrations::{
    Integration, IntegrationCheck, IntegrationPatch, NewIntegration,
};
use supportbot_core::sync::{SyncOptions, SyncProgress, SyncReport};
use supportbot_core::CoreError;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn integrations_list(state: State<'_, AppState>) -> Result<Vec<Integration>, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.list_integrations(&actor)).await
}

#[tauri::command]
pub async fn integration_add(
    state: State<'_, AppState>,
    input: NewIntegration,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.add_integration(&actor, input)).await
}

#[tauri::command]
pub async fn integration_edit(
    state: State<'_, AppState>,
    id: i64,
    patch: IntegrationPatch,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.edit_integration(&actor, id, patch)).await
}

#[tauri::command]
pub async fn integration_set_enabled(
    state: State<'_, AppState>,
    id: i64,
    enabled: bool,
) -> Result<Integration, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.set_integration_enabled(&actor, id, enabled)).await
}

#[tauri::command]
pub async fn integration_remove(state: State<'_, AppState>, id: i64) -> Result<(), CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.remove_integration(&actor, id)).await
}

/// Runs a sync to the end, streaming throttled progress through `on_progress`.
#[tauri::command]
pub async fn integration_sync(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    full: bool,
    allow_mass_delete: Option<bool>,
    on_progress: Channel<SyncProgress>,
) -> Result<SyncReport, CoreError> {
    let (core, actor) = state.acting().await?;
    let options = SyncOptions {
        full,
        allow_mass_delete: full && allow_mass_delete.unwrap_or(false),
        ..SyncOptions::default()
    };
    let name = core.integration_name(id).unwrap_or_default();
    let report = core
        .sync(&actor, id, options, move |p| {
            // A closed window drops the channel; the sync still finishes and commits.
            let _ = on_progress.send(p);
        })
        .await?;
    crate::notify::sync_finished(&app, &name, &report);
    Ok(report)
}

/// The connection check of a saved integration: reach, auth, read, count, with advice.
#[tauri::command]
pub async fn integration_check(
    state: State<'_, AppState>,
    id: i64,
) -> Result<IntegrationCheck, CoreError> {
    let (core, actor) = state.acting().await?;
    core.check_integration(&actor, id).await
}

/// The connection check of the add/edit dialog's values, before saving (`id`: the integration
/// being edited, whose stored secrets stand in for empty ones on the same origin).
#[tauri::command]
pub async fn integration_check_draft(
    state: State<'_, AppState>,
    input: NewIntegration,
    id: Option<i64>,
) -> Result<IntegrationCheck, CoreError> {
    let (core, actor) = state.acting().await?;
    core.check_integration_draft(&actor, id, input).await
}

#[tauri::command]
pub async fn integration_sync_cancel(state: State<'_, AppState>, id: i64) -> Result<(), CoreError> {
    let (core, actor) = state.acting().await?;
    core.cancel_sync(&actor, id).map(|_| ())
}
