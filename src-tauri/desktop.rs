//! The desktop window: opens the core, starts logging and hands the commands to Tauri.
//! GTK is initialised only here, so CLI subcommands work with no display.

use std::sync::{Arc, Mutex};

use supportbot_core::chat::{ChatConsole, ChatOptions};
use supportbot_core::{Actor, Core, CoreError, ErrorCode, Unlocked};

/// State shared by the commands: the core, and which profile the window unlocked. `None` means
/// the active profile is password protected and has not been unlocked in this session.
pub(crate) struct AppState {
    pub core: Arc<Core>,
    /// Never an `Actor`: a cached role would outlive a removed profile or a new password.
    session: Mutex<Option<Unlocked>>,
    /// The chat console (webhook server, VA clients, timers), or why it could not start: the
    /// rest of the app works without it and the Chat page shows the reason. Replaced when
    /// Settings > Chat changes what the webhook listens with ([`restart_chat`]).
    pub chat: Mutex<Result<Arc<ChatConsole>, String>>,
    chat_options: ChatOptions,
    /// The in-process simulator behind the demo integration; dropped with the app.
    _demo: Option<supportbot_sim::RunningSim>,
}

impl AppState {
    /// The core and the acting profile, re-read from the database for this command (see
    /// `Core::resume`), or `profile_password_required` while locked. A session whose profile
    /// was removed or got a new password since it was unlocked becomes locked.
    pub async fn acting(&self) -> Result<(Arc<Core>, Actor), CoreError> {
        let Some(unlocked) = self.unlocked() else {
            return Err(CoreError::new(
                ErrorCode::ProfilePasswordRequired,
                "The active profile is password protected. Unlock it in Settings > Profiles.",
            ));
        };
        let core = self.core.clone();
        let checked = unlocked.clone();
        match crate::commands::blocking(move || core.resume(&checked)).await {
            Ok(actor) => Ok((self.core.clone(), actor)),
            Err(e) => {
                if e.code == ErrorCode::ProfilePasswordRequired {
                    // Only the session that failed is dropped, not one a switch set meanwhile.
                    let mut session = self.session.lock().unwrap_or_else(|p| p.into_inner());
                    if session.as_ref() == Some(&unlocked) {
                        *session = None;
                    }
                }
                Err(e)
            }
        }
    }

    /// The acting profile for the frame's status, or `None` while locked.
    pub async fn actor_if_unlocked(&self) -> Option<Actor> {
        self.acting().await.ok().map(|(_, actor)| actor)
    }

    fn unlocked(&self) -> Option<Unlocked> {
        self.session
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set_session(&self, unlocked: Option<Unlocked>) {
        *self.session.lock().unwrap_or_else(|p| p.into_inner()) = unlocked;
    }
}

pub(crate) fn run() -> i32 {
    let core = match Core::open_default() {
        Ok(core) => Arc::new(core),
        Err(e) => {
            eprintln!("Support Bot cannot start: {e}");
            return 1;
        }
    };
    let _log_guard = supportbot_core::logging::init(core.data_dir());
    tracing::info!(data_dir = %core.data_dir().display(), secret_store = ?core.secret_store().kind, "starting desktop app");
    let session = core.unlock(None, None).ok().map(|(_, unlocked)| unlocked);
    let demo = crate::demo::start(&core);
    let chat_options = ChatOptions {
        sim_url: demo.as_ref().map(|d| d.base_url()),
        ..ChatOptions::default()
    };
    let chat = start_chat(&core, &chat_options);
    let chat_events = chat.as_ref().ok().map(|c| c.subscribe());
    let scheduler_core = core.clone();
    let state = AppState {
        core,
        session: Mutex::new(session),
        chat: Mutex::new(chat),
        chat_options,
        _demo: demo,
    };
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .manage(state)
        .setup(move |app| {
            // Created here rather than from the configuration, to carry the navigation guard.
            crate::navigation::open_main_window(app)?;
            crate::scheduler::spawn(app.handle().clone(), scheduler_core);
            if let Some(events) = chat_events {
                crate::notify::forward_chat_events(app.handle().clone(), events);
            }
            Ok(())
        })
        .invoke_handler(crate::commands::handler())
        .run(tauri::generate_context!());
    match result {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "desktop app failed");
            eprintln!("Support Bot failed: {e}");
            1
        }
    }
}

/// Starts the chat console on Tauri's runtime (its webhook server and timers live there). In
/// simulated mode it talks to the demo's in-process simulator.
fn start_chat(core: &Arc<Core>, options: &ChatOptions) -> Result<Arc<ChatConsole>, String> {
    tauri::async_runtime::block_on(ChatConsole::start(core.clone(), options.clone()))
        .map(Arc::new)
        .map_err(|e| {
            tracing::warn!(error = %e, "the chat console could not start");
            e.message
        })
}

/// Restarts the chat console, so a new webhook port, secret, bot id or tunnel takes effect at
/// once (Settings > Chat). The old webhook stops first (same port, new secret); conversations
/// live in SQLite and resume in the new console, waits included.
pub(crate) async fn restart_chat(
    state: &AppState,
    app: &tauri::AppHandle,
) -> Result<(), CoreError> {
    let old = std::mem::replace(
        &mut *state.chat.lock().unwrap_or_else(|p| p.into_inner()),
        Err("The chat is restarting with the new settings; try again in a moment.".into()),
    );
    if let Ok(old) = old {
        match Arc::try_unwrap(old) {
            Ok(console) => console.shutdown().await,
            // A command still holds it: its webhook stops when that command ends.
            Err(shared) => drop(shared),
        }
    }
    // The old listener may need a moment to let go of the port.
    let mut started = ChatConsole::start(state.core.clone(), state.chat_options.clone()).await;
    for _ in 0..20 {
        match &started {
            Err(e) if e.message.contains("in use") || e.message.contains("taken") => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                started = ChatConsole::start(state.core.clone(), state.chat_options.clone()).await;
            }
            _ => break,
        }
    }
    let result = started.map(Arc::new);
    if let Ok(console) = &result {
        crate::notify::forward_chat_events(app.clone(), console.subscribe());
        tracing::info!(webhook = console.webhook_url(), "chat console restarted");
    }
    let outcome = result.as_ref().map(|_| ()).map_err(Clone::clone);
    *state.chat.lock().unwrap_or_else(|p| p.into_inner()) = result.map_err(|e| e.message);
    outcome
}
