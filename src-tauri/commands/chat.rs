//! Commands of the Chat page and Settings > Chat: one `ChatConsole` call each.

use std::sync::Arc;

use supportbot_core::chat::console::{ChatConsole, ChatMessage, ChatMode, ChatReply, ChatSession};
use supportbot_core::chat::image::{load_image, ChatImage};
use supportbot_core::chat::{ChatSettings, ChatSettingsPatch};
use supportbot_core::{Actor, CoreError, ErrorCode};
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

/// The running chat service and who acts, or why chat is unavailable (the webhook port was
/// taken, say): the rest of the app works without it.
async fn chat(state: &AppState) -> Result<(Arc<ChatConsole>, Actor), CoreError> {
    let (_, actor) = state.acting().await?;
    match &*state.chat.lock().unwrap_or_else(|p| p.into_inner()) {
        Ok(console) => Ok((console.clone(), actor)),
        Err(why) => Err(CoreError::new(
            ErrorCode::ChatRefused,
            format!("The chat console is not available: {why} Change the webhook port in Settings > Chat and save: the chat restarts with it."),
        )),
    }
}

#[tauri::command]
pub async fn chat_settings(state: State<'_, AppState>) -> Result<ChatSettings, CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.chat_settings(&actor)).await
}

/// Saves Settings > Chat; a change to what the webhook listens with (port, secret, bot id,
/// tunnel) restarts the chat console so it takes effect at once.
#[tauri::command]
pub async fn chat_settings_save(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    patch: ChatSettingsPatch,
) -> Result<ChatSettings, CoreError> {
    let (core, actor) = state.acting().await?;
    let rebind = patch.webhook_port.is_some()
        || patch.webhook_secret.is_some()
        || patch.bot_id.is_some()
        || patch.tunnel.is_some()
        || patch.public_hosts.is_some();
    let saved = blocking(move || core.save_chat_settings(&actor, patch)).await?;
    if rebind {
        crate::desktop::restart_chat(&state, &app).await?;
    }
    Ok(saved)
}

#[tauri::command]
pub async fn chat_session(state: State<'_, AppState>) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.session(&actor).await
}

#[tauri::command]
pub async fn chat_new(
    state: State<'_, AppState>,
    mode: Option<ChatMode>,
) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.new_session(&actor, mode).await
}

#[tauri::command]
pub async fn chat_send(
    state: State<'_, AppState>,
    session_id: String,
    text: String,
) -> Result<Vec<ChatMessage>, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.send(&actor, &session_id, &text).await
}

#[tauri::command]
pub async fn chat_reply(
    state: State<'_, AppState>,
    session_id: String,
    reply: ChatReply,
) -> Result<Vec<ChatMessage>, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.reply(&actor, &session_id, reply).await
}

#[tauri::command]
pub async fn chat_start(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<Vec<ChatMessage>, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.start_conversation(&actor, &session_id).await
}

#[tauri::command]
pub async fn chat_switch(
    state: State<'_, AppState>,
    session_id: String,
    intent: String,
) -> Result<Vec<ChatMessage>, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.switch_topic(&actor, &session_id, &intent).await
}

#[tauri::command]
pub async fn chat_attach(
    state: State<'_, AppState>,
    session_id: String,
    file_name: String,
    content_type: String,
    data_base64: String,
) -> Result<Vec<ChatMessage>, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.attach(&actor, &session_id, &file_name, &content_type, &data_base64)
        .await
}

#[tauri::command]
pub async fn chat_escalate(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.escalate(&actor, &session_id).await
}

#[tauri::command]
pub async fn chat_cancel(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.cancel(&actor, &session_id).await
}

#[tauri::command]
pub async fn chat_end(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.end(&actor, &session_id).await
}

#[tauri::command]
pub async fn chat_keep_waiting(
    state: State<'_, AppState>,
    session_id: String,
) -> Result<ChatSession, CoreError> {
    let (chat, actor) = chat(&state).await?;
    chat.keep_waiting(&actor, &session_id).await
}

#[tauri::command]
pub async fn chat_feedback(
    state: State<'_, AppState>,
    message_id: i64,
    helpful: bool,
) -> Result<(), CoreError> {
    let (chat, actor) = chat(&state).await?;
    blocking(move || chat.feedback(&actor, message_id, helpful)).await
}

/// "Load image": an agent's image fetched by the core (the window's CSP allows no remote
/// images), only from the acting profile's own chat, capped and checked.
#[tauri::command]
pub async fn chat_image(state: State<'_, AppState>, url: String) -> Result<ChatImage, CoreError> {
    let (core, actor) = state.acting().await?;
    load_image(core, actor, url).await
}
