//! SQL of chat sessions, their transcripts and the feedback on bot answers (migration 0008),
//! and [`StoreSink`], the webhook sink that records payloads here.
//!
//! Invariant: an answer to a SECURE prompt is never written in clear: [`add_user_message`] with
//! `secure: true` stores a placeholder, and inbound payloads are stored without the `message`
//! the VA echoes back (which would repeat the user's text).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use serde_json::{json, Value};
use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::handoff::State;
use super::va::model::{Attachment, VaPayload};
use super::webhook::{Accepted, ConversationSink, Inbound};
// Ownership checks live in `owner.rs`; re-exported so callers keep one `store` path.
pub use super::owner::{
    latest_open_session, require_message_owner, require_owner, session_owner, url_in_own_messages,
};
use crate::clock::now_rfc3339;
use crate::error::{CoreError, CoreResult, ErrorCode};

/// Stored instead of a masked answer.
pub const SECURE_PLACEHOLDER: &str = "•••••• (hidden: a secure answer is never stored)";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Simulated,
    Real,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Simulated => "simulated",
            Mode::Real => "real",
        }
    }

    pub fn parse(text: &str) -> Mode {
        if text == "real" {
            Mode::Real
        } else {
            Mode::Simulated
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Session {
    pub id: i64,
    pub mode: Mode,
    pub state: State,
    pub client_session_id: String,
    pub user_id: String,
    pub email_id: Option<String>,
    pub agent_name: Option<String>,
    pub agent_in_control: bool,
    pub created_at: String,
    pub updated_at: String,
    pub ended_at: Option<String>,
    /// The instance's conversation id, once a payload gave one (echoed in later requests).
    pub now_session_id: Option<String>,
    /// The latest `clientVariables` the instance sent (tenantId, botId, conversationId…).
    pub client_variables: Option<Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    User,
    Bot,
    Agent,
    System,
}

impl Direction {
    fn as_str(self) -> &'static str {
        match self {
            Direction::User => "user",
            Direction::Bot => "bot",
            Direction::Agent => "agent",
            Direction::System => "system",
        }
    }

    fn parse(text: &str) -> Direction {
        match text {
            "user" => Direction::User,
            "agent" => Direction::Agent,
            "system" => Direction::System,
            _ => Direction::Bot,
        }
    }
}

/// A transcript entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Message {
    pub id: i64,
    pub session_id: i64,
    pub direction: Direction,
    pub kind: String,
    pub body: Value,
    pub order_key: i64,
    pub request_id: Option<String>,
    pub delivery_id: Option<String>,
    pub created_at: String,
    /// The user's "Did this help?" answer, if given.
    pub helpful: Option<bool>,
}

/// What the user sent.
#[derive(Debug, Clone, Default)]
pub struct UserMessage {
    pub text: Option<String>,
    /// The answer to a SECURE prompt: only a placeholder is stored.
    pub secure: bool,
    pub attachment: Option<Attachment>,
    pub request_id: Option<String>,
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

pub fn create_session(
    conn: &Connection,
    mode: Mode,
    client_session_id: &str,
    user_id: &str,
    email_id: Option<&str>,
) -> CoreResult<Session> {
    let now = now_rfc3339();
    conn.execute(
        "INSERT INTO chat_sessions (mode, client_session_id, user_id, email_id, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![mode.as_str(), client_session_id, user_id, email_id, now],
    )?;
    session(conn, conn.last_insert_rowid())?
        .ok_or_else(|| CoreError::internal("chat session vanished after insert"))
}

const SESSION_COLUMNS: &str = "id, mode, state, client_session_id, user_id, email_id, agent_name,
     agent_in_control, created_at, updated_at, ended_at, now_session_id, client_variables";

fn read_session(row: &rusqlite::Row<'_>) -> rusqlite::Result<Session> {
    let state: String = row.get(2)?;
    Ok(Session {
        id: row.get(0)?,
        mode: Mode::parse(&row.get::<_, String>(1)?),
        state: State::parse(&state).unwrap_or(State::Active),
        client_session_id: row.get(3)?,
        user_id: row.get(4)?,
        email_id: row.get(5)?,
        agent_name: row.get(6)?,
        agent_in_control: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
        ended_at: row.get(10)?,
        now_session_id: row.get(11)?,
        client_variables: row
            .get::<_, Option<String>>(12)?
            .and_then(|raw| serde_json::from_str(&raw).ok()),
    })
}

pub fn session(conn: &Connection, id: i64) -> CoreResult<Option<Session>> {
    Ok(conn
        .query_row(
            &format!("SELECT {SESSION_COLUMNS} FROM chat_sessions WHERE id = ?1"),
            [id],
            read_session,
        )
        .optional()?)
}

pub fn session_by_client_id(
    conn: &Connection,
    client_session_id: &str,
) -> CoreResult<Option<Session>> {
    Ok(conn
        .query_row(
            &format!("SELECT {SESSION_COLUMNS} FROM chat_sessions WHERE client_session_id = ?1"),
            [client_session_id],
            read_session,
        )
        .optional()?)
}

/// The most recently updated session, to resume after a restart.
pub fn latest_session(conn: &Connection) -> CoreResult<Option<Session>> {
    Ok(conn
        .query_row(
            &format!("SELECT {SESSION_COLUMNS} FROM chat_sessions ORDER BY updated_at DESC, id DESC LIMIT 1"),
            [],
            read_session,
        )
        .optional()?)
}

/// Records the handoff state (and who the agent is, once known).
pub fn set_state(
    conn: &Connection,
    id: i64,
    state: State,
    agent_name: Option<&str>,
    agent_in_control: bool,
) -> CoreResult<()> {
    let now = now_rfc3339();
    conn.execute(
        "UPDATE chat_sessions SET state = ?2, agent_name = COALESCE(?3, agent_name),
             agent_in_control = ?4, updated_at = ?5,
             ended_at = CASE WHEN ?2 IN ('completed', 'fail', 'cancelled') THEN ?5 ELSE NULL END
         WHERE id = ?1",
        params![id, state.as_str(), agent_name, agent_in_control, now],
    )?;
    Ok(())
}

/// Remembers a request sent to the VA, so its replies find the session.
pub fn record_request(
    conn: &Connection,
    session_id: i64,
    request_id: &str,
    action: Option<&str>,
) -> CoreResult<()> {
    conn.execute(
        "INSERT OR IGNORE INTO chat_requests (request_id, session_id, action, sent_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![request_id, session_id, action, now_rfc3339()],
    )?;
    Ok(())
}

pub fn session_for_request(conn: &Connection, request_id: &str) -> CoreResult<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT session_id FROM chat_requests WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        )
        .optional()?)
}

#[allow(
    clippy::too_many_arguments,
    reason = "one private helper mapping the columns of one row"
)]
fn insert(
    conn: &Connection,
    session_id: i64,
    direction: Direction,
    kind: &str,
    body: &Value,
    order_key: i64,
    request_id: Option<&str>,
    delivery_id: Option<&str>,
) -> CoreResult<Option<i64>> {
    let inserted = conn.execute(
        "INSERT OR IGNORE INTO chat_messages
             (session_id, direction, kind, body, order_key, request_id, delivery_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            session_id,
            direction.as_str(),
            kind,
            body.to_string(),
            order_key,
            request_id,
            delivery_id,
            now_rfc3339()
        ],
    )?;
    conn.execute(
        "UPDATE chat_sessions SET updated_at = ?2 WHERE id = ?1",
        params![session_id, now_rfc3339()],
    )?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// Stores what the user sent; a secure answer becomes a placeholder.
pub fn add_user_message(
    conn: &Connection,
    session_id: i64,
    message: &UserMessage,
) -> CoreResult<i64> {
    let (kind, body) = if message.secure {
        (
            "secure",
            json!({"text": SECURE_PLACEHOLDER, "masked": true}),
        )
    } else if let Some(attachment) = &message.attachment {
        (
            "attachment",
            json!({"text": message.text, "attachment": attachment}),
        )
    } else {
        ("text", json!({"text": message.text}))
    };
    insert(
        conn,
        session_id,
        Direction::User,
        kind,
        &body,
        now_ms(),
        message.request_id.as_deref(),
        None,
    )?
    .ok_or_else(|| CoreError::internal("user message not stored"))
}

/// Stores an app message: a local bot answer (`bot_answer`) or a state notice (`notice`).
pub fn add_local(
    conn: &Connection,
    session_id: i64,
    direction: Direction,
    kind: &str,
    body: &Value,
) -> CoreResult<i64> {
    insert(
        conn,
        session_id,
        direction,
        kind,
        body,
        now_ms(),
        None,
        None,
    )?
    .ok_or_else(|| CoreError::internal("message not stored"))
}

/// What of a payload is kept: the body elements as received (the VA reference's shapes, which the UI
/// renders; OutputHtml is sanitised when read, see `chat::sanitize`) and the flags, never the
/// echoed `message`.
pub fn payload_record(payload: &VaPayload) -> Value {
    json!({
        "body": payload.raw_body,
        "agentChat": payload.agent_chat,
        "completed": payload.completed,
        "takeControl": payload.take_control,
        "status": payload.status,
        "errorMessage": payload.error_message,
        "score": payload.score,
        "agentName": payload.agent_name(),
    })
}

/// Stores a webhook payload; a delivery id seen before in this session is a duplicate.
pub fn add_inbound(conn: &Connection, session_id: i64, inbound: &Inbound) -> CoreResult<Accepted> {
    let from_agent = inbound.payload.agent_chat
        || inbound
            .payload
            .body
            .iter()
            .any(|i| i.agent_info.as_ref().is_some_and(|a| a.sent_from_agent));
    let inserted = insert(
        conn,
        session_id,
        if from_agent {
            Direction::Agent
        } else {
            Direction::Bot
        },
        "va_payload",
        &payload_record(&inbound.payload),
        inbound.order_key,
        inbound.payload.request_id.as_deref(),
        Some(&inbound.delivery_id),
    )?;
    if inserted.is_some() {
        remember_instance_ids(conn, session_id, &inbound.payload)?;
    }
    Ok(if inserted.is_some() {
        Accepted::New
    } else {
        Accepted::Duplicate
    })
}

/// Keeps what the instance says about the conversation: its `nowSessionId` (echoed from then
/// on) and its `clientVariables` (shown in the session details).
fn remember_instance_ids(
    conn: &Connection,
    session_id: i64,
    payload: &VaPayload,
) -> CoreResult<()> {
    if let Some(now) = payload
        .now_session_id
        .as_deref()
        .filter(|s| !s.trim().is_empty())
    {
        conn.execute(
            "UPDATE chat_sessions SET now_session_id = ?2 WHERE id = ?1",
            params![session_id, now],
        )?;
    }
    if !payload.client_variables.is_empty() {
        let json = Value::Object(payload.client_variables.clone()).to_string();
        conn.execute(
            "UPDATE chat_sessions SET client_variables = ?2 WHERE id = ?1",
            params![session_id, json],
        )?;
    }
    Ok(())
}

const MESSAGE_COLUMNS: &str =
    "SELECT m.id, m.session_id, m.direction, m.kind, m.body, m.order_key, m.request_id,
        m.delivery_id, m.created_at, f.helpful
 FROM chat_messages m LEFT JOIN chat_feedback f ON f.message_id = m.id";

fn message_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Message> {
    let body: String = row.get(4)?;
    Ok(Message {
        id: row.get(0)?,
        session_id: row.get(1)?,
        direction: Direction::parse(&row.get::<_, String>(2)?),
        kind: row.get(3)?,
        body: serde_json::from_str(&body).unwrap_or(Value::String(body)),
        order_key: row.get(5)?,
        request_id: row.get(6)?,
        delivery_id: row.get(7)?,
        created_at: row.get(8)?,
        helpful: row.get(9)?,
    })
}

/// The transcript in order.
pub fn messages(conn: &Connection, session_id: i64) -> CoreResult<Vec<Message>> {
    let mut statement = conn.prepare_cached(&format!(
        "{MESSAGE_COLUMNS} WHERE m.session_id = ?1 ORDER BY m.order_key, m.id"
    ))?;
    let rows = statement.query_map([session_id], message_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One transcript entry by id (a primary-key lookup, not a transcript load).
pub fn message(conn: &Connection, id: i64) -> CoreResult<Option<Message>> {
    let mut statement = conn.prepare_cached(&format!("{MESSAGE_COLUMNS} WHERE m.id = ?1"))?;
    Ok(rusqlite::OptionalExtension::optional(
        statement.query_row([id], message_row),
    )?)
}

/// "Did this help?": records or changes the answer on a bot message.
pub fn set_feedback(
    conn: &Connection,
    message_id: i64,
    helpful: bool,
    comment: Option<&str>,
) -> CoreResult<()> {
    let direction: Option<String> = conn
        .query_row(
            "SELECT direction FROM chat_messages WHERE id = ?1",
            [message_id],
            |r| r.get(0),
        )
        .optional()?;
    match direction.as_deref() {
        Some("bot") => {}
        Some(_) => {
            return Err(CoreError::new(
                ErrorCode::ChatRefused,
                "Feedback can only be given on the bot's answers.",
            ))
        }
        None => {
            return Err(CoreError::not_found(
                "chat message",
                &message_id.to_string(),
            ))
        }
    }
    conn.execute(
        "INSERT INTO chat_feedback (message_id, helpful, comment, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(message_id) DO UPDATE SET helpful = excluded.helpful,
             comment = excluded.comment, created_at = excluded.created_at",
        params![message_id, helpful, comment, now_rfc3339()],
    )?;
    Ok(())
}

/// The webhook sink over the app database: routes a payload by its requestId (else its
/// clientSessionId), stores it, and forwards ordered deliveries to a channel the chat session
/// reads. Opens its own connection per call, like long jobs do, so the webhook never waits on
/// the UI's connection.
pub struct StoreSink {
    db_path: PathBuf,
    live: mpsc::UnboundedSender<Inbound>,
    /// Open connections kept between deliveries: opening one (file, WAL, pragmas, mmap) cost
    /// more than the two statements a delivery runs.
    idle: Mutex<Vec<Connection>>,
}

/// Connections [`StoreSink`] keeps open at most (concurrent deliveries beyond it open more).
const IDLE_CONNECTIONS: usize = 8;

impl StoreSink {
    /// `db_path` is the app database file; deliveries appear on the returned receiver.
    pub fn new(db_path: PathBuf) -> (Arc<StoreSink>, mpsc::UnboundedReceiver<Inbound>) {
        let (live, rx) = mpsc::unbounded_channel();
        (
            Arc::new(StoreSink {
                db_path,
                live,
                idle: Mutex::new(Vec::new()),
            }),
            rx,
        )
    }

    /// Runs `f` on an idle connection, or a new one, and keeps it for the next delivery.
    fn with_conn<T>(&self, f: impl FnOnce(&Connection) -> CoreResult<T>) -> CoreResult<T> {
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let conn = match idle {
            Some(c) => c,
            None => crate::store::open_connection(&self.db_path)?,
        };
        let out = f(&conn);
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < IDLE_CONNECTIONS {
            idle.push(conn);
        }
        out
    }
}

impl ConversationSink for StoreSink {
    fn session_for(&self, payload: &VaPayload) -> Option<String> {
        self.with_conn(|conn| {
            if let Some(request_id) = payload.request_id.as_deref().filter(|r| !r.is_empty()) {
                if let Some(id) = session_for_request(conn, request_id)? {
                    return Ok(session(conn, id)?.map(|s| s.client_session_id));
                }
            }
            match payload
                .client_session_id
                .as_deref()
                .filter(|c| !c.is_empty())
            {
                Some(client) => {
                    Ok(session_by_client_id(conn, client)?.map(|s| s.client_session_id))
                }
                None => Ok(None),
            }
        })
        .ok()
        .flatten()
    }

    fn accept(&self, inbound: &Inbound) -> CoreResult<Accepted> {
        self.with_conn(|conn| {
            let id = session_by_client_id(conn, &inbound.session)?
                .map(|s| s.id)
                .ok_or_else(|| CoreError::internal("the session was deleted"))?;
            add_inbound(conn, id, inbound)
        })
    }

    fn deliver(&self, inbound: Inbound) {
        let _ = self.live.send(inbound);
    }
}
