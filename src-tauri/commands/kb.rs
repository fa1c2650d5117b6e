//! Commands of the Knowledge Base pages: search, version history, rollback and index health.

use supportbot_core::chat::outcomes::{ChatStats, KnowledgeGap};
use supportbot_core::kb::{
    Facets, IncidentDetail, KbCheck, KbStats, RebuildProgress, RebuildReport, RollbackProgress,
    SearchRequest, SearchResults, VersionDetail, VersionSummary,
};
use supportbot_core::CoreError;
use tauri::ipc::Channel;
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn kb_stats(state: State<'_, AppState>) -> Result<KbStats, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_stats(&actor)).await
}

/// Embeds the query (CPU work) and searches both indexes, so it runs on a blocking thread.
#[tauri::command]
pub async fn kb_search(
    state: State<'_, AppState>,
    request: SearchRequest,
) -> Result<SearchResults, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_search(&actor, &request)).await
}

#[tauri::command]
pub async fn kb_facets(state: State<'_, AppState>) -> Result<Facets, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_facets(&actor)).await
}

/// Knowledge gaps: what the bot declined and answers rated unhelpful, grouped, newest first.
#[tauri::command]
pub async fn kb_gaps(state: State<'_, AppState>) -> Result<Vec<KnowledgeGap>, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_gaps(&actor)).await
}

/// What the bot did with the questions (shown with the Knowledge gaps).
#[tauri::command]
pub async fn chat_stats(state: State<'_, AppState>) -> Result<ChatStats, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.chat_stats(&actor)).await
}

/// The incident detail view: every synced field of one incident, by its knowledge-base id.
#[tauri::command]
pub async fn kb_incident(state: State<'_, AppState>, id: i64) -> Result<IncidentDetail, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_incident_by_id(&actor, id)).await
}

#[tauri::command]
pub async fn kb_versions(state: State<'_, AppState>) -> Result<Vec<VersionSummary>, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_versions(&actor)).await
}

#[tauri::command]
pub async fn kb_version(
    state: State<'_, AppState>,
    id: i64,
    offset: u64,
    limit: u64,
) -> Result<VersionDetail, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_version(&actor, id, offset, limit)).await
}

#[tauri::command]
pub async fn kb_rollback(
    state: State<'_, AppState>,
    target: i64,
    on_progress: Channel<RollbackProgress>,
) -> Result<VersionSummary, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || {
        core.kb_rollback(&actor, target, |p| {
            // A closed window drops the channel; the rollback still completes.
            let _ = on_progress.send(p);
        })
    })
    .await
}

#[tauri::command]
pub async fn kb_check(state: State<'_, AppState>) -> Result<KbCheck, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.kb_check(&actor)).await
}

#[tauri::command]
pub async fn kb_rebuild(
    state: State<'_, AppState>,
    on_progress: Channel<RebuildProgress>,
) -> Result<RebuildReport, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || {
        core.kb_rebuild(&actor, |p| {
            let _ = on_progress.send(p);
        })
    })
    .await
}
