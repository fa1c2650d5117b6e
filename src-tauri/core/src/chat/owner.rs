//! Who a chat session belongs to: the profile that started it (`chat_sessions.user_id` holds its
//! name). Another profile can neither read nor act on it; the checks are called after each
//! `ChatService` command's permission check, by the window's event forwarding and by the image
//! loader. Re-exported from `store`.

use rusqlite::{params, Connection, OptionalExtension};

use crate::access::Actor;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// The profile a session belongs to: `user_id` is the name of the profile that started it.
pub fn session_owner(conn: &Connection, id: i64) -> CoreResult<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT user_id FROM chat_sessions WHERE id = ?1",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Refuses `actor` a session another profile started (`permission_denied`): a chat session,
/// its transcript and its commands belong to the profile that started it.
pub fn require_owner(conn: &Connection, actor: &Actor, session_id: &str) -> CoreResult<()> {
    let id = session_id
        .trim()
        .parse::<i64>()
        .map_err(|_| CoreError::not_found("chat session", session_id))?;
    match session_owner(conn, id)? {
        None => Err(CoreError::not_found("chat session", session_id)),
        Some(owner) if owner == actor.name => Ok(()),
        Some(_) => Err(not_yours()),
    }
}

/// Refuses `actor` a message of a session another profile started.
pub fn require_message_owner(conn: &Connection, actor: &Actor, message_id: i64) -> CoreResult<()> {
    let owner: Option<String> = conn
        .query_row(
            "SELECT s.user_id FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
             WHERE m.id = ?1",
            [message_id],
            |r| r.get(0),
        )
        .optional()?;
    match owner {
        None => Err(CoreError::not_found(
            "chat message",
            &message_id.to_string(),
        )),
        Some(owner) if owner == actor.name => Ok(()),
        Some(_) => Err(not_yours()),
    }
}

impl crate::Core {
    /// Whether chat session `session_id` (as events name it) belongs to `actor`, for the
    /// desktop's event forwarding: another profile's chat events never reach the window.
    pub fn chat_session_is_own(&self, actor: &Actor, session_id: &str) -> CoreResult<bool> {
        match require_owner(&self.db().conn(), actor, session_id) {
            Ok(()) => Ok(true),
            Err(e) if matches!(e.code, ErrorCode::PermissionDenied | ErrorCode::NotFound) => {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}

fn not_yours() -> CoreError {
    CoreError::new(
        ErrorCode::PermissionDenied,
        "This chat session belongs to another profile; only the profile that started it can read or continue it.",
    )
}

/// Whether `url` occurs in a stored message of one of `user_id`'s sessions (as JSON text, or
/// HTML-escaped inside an OutputHtml value): the core loads only images a profile was sent.
pub fn url_in_own_messages(conn: &Connection, user_id: &str, url: &str) -> CoreResult<bool> {
    let json = serde_json::to_string(url).unwrap_or_default();
    let inner = json.trim_matches('"').to_owned();
    let html = serde_json::to_string(&url.replace('&', "&amp;")).unwrap_or_default();
    let html = html.trim_matches('"').to_owned();
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM chat_messages m JOIN chat_sessions s ON s.id = m.session_id
             WHERE s.user_id = ?1 AND (instr(m.body, ?2) > 0 OR instr(m.body, ?3) > 0))",
        params![user_id, inner, html],
        |r| r.get(0),
    )?)
}

/// `user_id`'s most recently updated unfinished session (active, waiting or connected).
pub fn latest_open_session(conn: &Connection, user_id: &str) -> CoreResult<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM chat_sessions
             WHERE state IN ('active', 'waiting', 'connected') AND user_id = ?1
             ORDER BY updated_at DESC, id DESC LIMIT 1",
            [user_id],
            |r| r.get(0),
        )
        .optional()?)
}
