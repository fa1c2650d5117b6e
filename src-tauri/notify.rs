//! Desktop notifications (a sync ended, an agent joined or replied) while the window is not in
//! front, and the chat events forwarded to the window.

use supportbot_core::chat::console::{ChatEvent, HandoffState};
use supportbot_core::chat::sanitize::body_text;
use supportbot_core::chat::store::Direction;
use supportbot_core::sync::{SyncOutcome, SyncReport};
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_notification::NotificationExt;
use tokio::sync::broadcast;

use crate::desktop::AppState;

fn window_focused(app: &AppHandle) -> bool {
    app.get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false)
}

fn show(app: &AppHandle, title: String, body: String) {
    let (title, body) = (plain_text(&title, 80), plain_text(&body, 140));
    if let Err(e) = app.notification().builder().title(title).body(body).show() {
        tracing::debug!(error = %e, "notification not shown");
    }
}

/// Remote text (an agent's name and words, an error message) as plain text for a notification:
/// many notification servers read the body as markup (`<a href>`, `<img src>`), so the markup
/// characters are replaced by look-alikes that mean nothing, control and bidirectional-override
/// characters (which can disguise text) are dropped, whitespace is folded to single spaces, and
/// the result is cut to `max` characters.
fn plain_text(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = match c {
            '<' => '‹',
            '>' => '›',
            '&' => '＆',
            c if c.is_whitespace() => ' ',
            c if c.is_control() => continue,
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' => continue,
            c => c,
        };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    let trimmed = out.trim_end();
    if trimmed.chars().count() <= max {
        return trimmed.to_owned();
    }
    let mut cut: String = trimmed.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// Whether the window may see `event`: only events of the acting profile's own chat sessions
/// (none while the window is locked).
async fn for_this_window(app: &AppHandle, event: &ChatEvent) -> bool {
    let session_id = match event {
        ChatEvent::Message { session_id, .. }
        | ChatEvent::State { session_id, .. }
        | ChatEvent::Typing { session_id, .. }
        | ChatEvent::WaitTimeout { session_id, .. } => session_id.clone(),
    };
    let state = app.state::<AppState>();
    let Ok((core, actor)) = state.acting().await else {
        return false;
    };
    crate::commands::blocking(move || core.chat_session_is_own(&actor, &session_id))
        .await
        .unwrap_or(false)
}

/// Sends every chat event to the window ("chat-event") and notifies when an agent joins or
/// writes while the window is in the background.
pub(crate) fn forward_chat_events(app: AppHandle, mut events: broadcast::Receiver<ChatEvent>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                // A slow window missed some events; the page reloads the session on its next
                // action, so carry on.
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "chat events dropped for a slow window");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => break,
            };
            if !for_this_window(&app, &event).await {
                continue;
            }
            if !window_focused(&app) {
                match &event {
                    ChatEvent::State {
                        state: HandoffState::Connected,
                        agent,
                        ..
                    } => {
                        let name = agent
                            .as_ref()
                            .and_then(|a| a.name.clone())
                            .unwrap_or_else(|| "An agent".into());
                        show(
                            &app,
                            format!("{name} joined the chat"),
                            "Open Support Bot to reply.".into(),
                        );
                    }
                    // The live agent's words only: the Virtual Agent's "please stand by" is not
                    // worth interrupting for.
                    ChatEvent::Message { message, .. }
                        if message.from == Direction::Agent && message.live_agent =>
                    {
                        let who = message
                            .agent
                            .as_ref()
                            .and_then(|a| a.name.clone())
                            .unwrap_or_else(|| "The agent".into());
                        // An agent's words are body elements (OutputText…), as the window shows them.
                        let mut lines = body_text(&message.body);
                        lines.extend(message.text.clone());
                        let text = match lines.join(" ") {
                            t if t.trim().is_empty() => "sent a message".to_owned(),
                            t => t,
                        };
                        show(&app, format!("{who} replied"), text);
                    }
                    _ => {}
                }
            }
            if let Err(e) = app.emit("chat-event", &event) {
                tracing::debug!(error = %e, "chat event not delivered to the window");
            }
        }
    });
}

/// Tells the user how a sync of `name` ended, unless they are looking at the window already
/// (the card shows it there). Without a notification daemon this is a no-op.
pub(crate) fn sync_finished(app: &AppHandle, name: &str, report: &SyncReport) {
    if window_focused(app) {
        return;
    }
    let (title, body) = match report.status {
        SyncOutcome::Success => (
            format!("{name} synced"),
            format!(
                "{} added, {} updated · {} in the knowledge base",
                report.added, report.updated, report.total
            ),
        ),
        SyncOutcome::Partial => (
            format!("{name} synced with problems"),
            format!(
                "{} records skipped. Open the integration for details.",
                report.skipped
            ),
        ),
        SyncOutcome::Error => (
            format!("{name} sync failed"),
            report
                .error
                .as_ref()
                .map(|e| e.message.clone())
                .unwrap_or_default(),
        ),
        SyncOutcome::Cancelled => return,
    };
    show(app, title, body);
}

#[cfg(test)]
mod tests {
    use super::plain_text;

    #[test]
    fn notification_text_carries_no_markup_or_control_characters() {
        assert_eq!(
            plain_text(
                "<a href=\"https://evil.example\">click</a> & <img src=x>",
                200
            ),
            "‹a href=\"https://evil.example\"›click‹/a› ＆ ‹img src=x›"
        );
        assert_eq!(
            plain_text("a\u{1b}[31mred\u{202E}txt\n\n b", 50),
            "a[31mredtxt b"
        );
        assert_eq!(plain_text("abcdef", 4), "abc…");
        assert_eq!(plain_text("  \t ", 4), "");
    }
}
