//! Storing transcript lines (the user's words, notices, app-made lines) and the session's
//! state, and publishing each as an event once it is stored.

use rusqlite::Connection;
use serde_json::{json, Value};

use super::{to_chat_message, ChatEvent, ChatMessage, ChatSessionDetails, Inner, Live};
use crate::chat::handoff::State;
use crate::chat::store::{self as chat_store, Direction, Session, UserMessage};
use crate::error::{CoreError, CoreResult};

impl Inner {
    pub(super) fn store_user(
        &self,
        session: &Session,
        text: &str,
        request_id: Option<&str>,
    ) -> CoreResult<ChatMessage> {
        let m = {
            let conn = self.core.db().conn();
            let id = chat_store::add_user_message(
                &conn,
                session.id,
                &UserMessage {
                    text: Some(text.to_owned()),
                    secure: false,
                    attachment: None,
                    request_id: request_id.map(str::to_owned),
                },
            )?;
            self.message_by_id(&conn, id)?
        };
        self.emit_message(session, &m);
        Ok(m)
    }

    pub(super) fn store_notice(
        &self,
        session: &Session,
        state: State,
        kind: &str,
        text: &str,
    ) -> CoreResult<ChatMessage> {
        self.store_local(
            session,
            Direction::System,
            "notice",
            &json!({"kind": kind, "state": state, "text": text}),
        )
    }

    /// Stores an app-made transcript line (a notice, the user's attachment or Virtual Agent
    /// action) and publishes it.
    pub(super) fn store_local(
        &self,
        session: &Session,
        direction: Direction,
        kind: &str,
        body: &Value,
    ) -> CoreResult<ChatMessage> {
        let m = {
            let conn = self.core.db().conn();
            let id = chat_store::add_local(&conn, session.id, direction, kind, body)?;
            self.message_by_id(&conn, id)?
        };
        self.emit_message(session, &m);
        Ok(m)
    }

    pub(super) fn persist(&self, session: &Session, live: &Live) -> CoreResult<()> {
        let conn = self.core.db().conn();
        chat_store::set_state(
            &conn,
            session.id,
            live.handoff.state,
            live.agent.as_ref().and_then(|a| a.name.as_deref()),
            live.handoff.agent_in_control,
        )
    }

    pub(super) fn emit(&self, event: ChatEvent) {
        // No receiver is not an error: nobody is looking.
        let _ = self.events.send(event);
    }

    pub(super) fn emit_message(&self, session: &Session, m: &ChatMessage) {
        self.emit(ChatEvent::Message {
            session_id: session.id.to_string(),
            message: Box::new(m.clone()),
        });
    }

    pub(super) fn emit_state(&self, session: &Session, live: &Live) {
        self.emit(ChatEvent::State {
            session_id: session.id.to_string(),
            state: live.handoff.state,
            notice: live.notice.clone(),
            agent: live.agent.clone(),
            take_control: live.handoff.agent_in_control,
            wait_time: live.wait_time.clone(),
            reason: live.reason.clone(),
            details: ChatSessionDetails::of(session),
        });
    }

    pub(super) fn message_by_id(&self, conn: &Connection, id: i64) -> CoreResult<ChatMessage> {
        chat_store::message(conn, id)?
            .as_ref()
            .and_then(to_chat_message)
            .ok_or_else(|| CoreError::internal("a stored chat message vanished"))
    }
}
