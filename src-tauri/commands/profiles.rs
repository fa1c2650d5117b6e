//! Commands of Settings > Profiles.

use secrecy::SecretString;
use supportbot_core::{AppStatus, CoreError, Profile, Role};
use tauri::State;

use super::blocking;
use crate::desktop::AppState;

#[tauri::command]
pub async fn profiles_list(state: State<'_, AppState>) -> Result<Vec<Profile>, CoreError> {
    let core = state.core.clone();
    blocking(move || core.profiles()).await
}

#[tauri::command]
pub async fn profile_add(
    state: State<'_, AppState>,
    name: String,
    role: Role,
    password: Option<SecretString>,
) -> Result<Profile, CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.add_profile(&actor, &name, role, password.as_ref())).await
}

/// Switches the window to `name` (checking its password) and makes it the active profile.
#[tauri::command]
pub async fn profile_switch(
    state: State<'_, AppState>,
    name: String,
    password: Option<SecretString>,
) -> Result<AppStatus, CoreError> {
    let core = state.core.clone();
    let (actor, status) = blocking(move || {
        let actor = core.switch_profile(&name, password.as_ref())?;
        let status = core.status(Some(&actor))?;
        Ok((actor, status))
    })
    .await?;
    state.set_session(Some(actor));
    Ok(status)
}

#[tauri::command]
pub async fn profile_remove(state: State<'_, AppState>, name: String) -> Result<(), CoreError> {
    let (core, actor) = state.acting()?;
    blocking(move || core.remove_profile(&actor, &name)).await
}
