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
    let (core, actor) = state.acting().await?;
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
    let (unlocked, status) = blocking(move || {
        let (actor, unlocked) = core.switch_session(&name, password.as_ref())?;
        let status = core.status(Some(&actor))?;
        Ok((unlocked, status))
    })
    .await?;
    state.set_session(Some(unlocked));
    Ok(status)
}

/// Sets a profile's password: an admin anyone's, a profile its own with `current`. Setting the
/// window's own password unlocks the session again with the new one, so it stays usable.
#[tauri::command]
pub async fn profile_set_password(
    state: State<'_, AppState>,
    name: String,
    current: Option<SecretString>,
    password: SecretString,
) -> Result<Profile, CoreError> {
    let (core, actor) = state.acting().await?;
    let (profile, renewed) = blocking(move || {
        let profile = core.set_profile_password(&actor, &name, current.as_ref(), &password)?;
        let renewed = if profile.name == actor.name {
            Some(core.unlock(Some(&profile.name), Some(&password))?.1)
        } else {
            None
        };
        Ok((profile, renewed))
    })
    .await?;
    if let Some(unlocked) = renewed {
        state.set_session(Some(unlocked));
    }
    Ok(profile)
}

#[tauri::command]
pub async fn profile_remove(state: State<'_, AppState>, name: String) -> Result<(), CoreError> {
    let (core, actor) = state.acting().await?;
    blocking(move || core.remove_profile(&actor, &name)).await
}
