//! Webhook deliveries: one ordered worker per session applies each stored payload (agent
//! details, typing, the message itself, then the handoff's move).

use std::sync::Arc;

use tokio::sync::mpsc;

use super::{to_chat_message, AgentInfo, ChatEvent, ChatMessage, Inner, Live};
use crate::chat::handoff::{Event, Signal, State};
use crate::chat::store::{self as chat_store, Session};
use crate::chat::va::model::{ActionKind, VaPayload};
use crate::chat::webhook::Inbound;
use crate::error::CoreResult;

impl Inner {
    /// Hands a delivery to its session's ordered worker.
    pub(super) fn dispatch(self: &Arc<Self>, inbound: Inbound) {
        let session = {
            let conn = self.core.db().conn();
            chat_store::session_by_client_id(&conn, &inbound.session)
                .ok()
                .flatten()
        };
        let Some(session) = session else { return };
        let mut workers = self.workers.lock().unwrap_or_else(|p| p.into_inner());
        let sender = workers.entry(session.id).or_insert_with(|| {
            let (tx, mut rx) = mpsc::unbounded_channel::<Inbound>();
            let inner = Arc::clone(self);
            let session = session.clone();
            tokio::spawn(async move {
                while let Some(inbound) = rx.recv().await {
                    let Ok(handle) = inner.live(&session) else {
                        continue;
                    };
                    let mut live = handle.lock().await;
                    // The row may have changed (state, agent) since the worker started.
                    let current = {
                        let conn = inner.core.db().conn();
                        chat_store::session(&conn, session.id).ok().flatten()
                    };
                    let current = current.unwrap_or_else(|| session.clone());
                    if let Err(e) = inner.apply_inbound(&current, &mut live, &inbound) {
                        tracing::warn!(code = e.code.as_str(), "applying a VA payload failed");
                    }
                }
            });
            tx
        });
        let _ = sender.send(inbound);
    }

    /// A stored payload: publish it (and typing), then move the handoff.
    pub(super) fn apply_inbound(
        self: &Arc<Self>,
        session: &Session,
        live: &mut Live,
        inbound: &Inbound,
    ) -> CoreResult<Vec<ChatMessage>> {
        let payload = &inbound.payload;
        let before = (
            live.handoff.state,
            live.agent.clone(),
            live.wait_time.clone(),
        );
        for item in &payload.body {
            if let Some(info) = &item.agent_info {
                if info.agent_name.as_deref().is_some_and(|n| !n.is_empty()) {
                    live.agent = Some(AgentInfo {
                        name: info.agent_name.clone(),
                        avatar: info.agent_avatar.clone().filter(|a| !a.is_empty()),
                    });
                }
            }
        }
        for a in payload.actions() {
            if a.action == ActionKind::StartSpinner {
                if let Some(w) = a.wait_time.as_ref().filter(|w| !w.is_empty()) {
                    live.wait_time = Some(w.clone());
                }
            }
            let on = match a.action {
                ActionKind::StartTypingIndicator => true,
                ActionKind::EndTypingIndicator => false,
                _ => continue,
            };
            self.emit(ChatEvent::Typing {
                session_id: session.id.to_string(),
                on,
            });
        }
        let stored = {
            let conn = self.core.db().conn();
            let id: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
                "SELECT id FROM chat_messages WHERE session_id = ?1 AND delivery_id = ?2",
                rusqlite::params![session.id, inbound.delivery_id],
                |r| r.get(0),
            ))?;
            match id {
                Some(id) => chat_store::message(&conn, id)?,
                None => None,
            }
        };
        // Typing indicators alone and empty payloads are events, not transcript lines.
        if let Some(m) = stored.as_ref().and_then(to_chat_message) {
            if !(m.body.is_empty() && m.text.is_none()) {
                self.emit_message(session, &m);
            }
        }
        let mut signal = Signal::of(payload);
        if signal != Signal::Message
            && !live.handoff.state.is_terminal()
            && self.answers_an_ended_handoff(live, payload)?
        {
            // A late reply of a handoff that ended before the user moved on (the agent's
            // greeting still on its way, the VA's "completed" answer to END_CONVERSATION): it
            // is shown, but must not end or reconnect the conversation that started since.
            signal = Signal::Message;
        }
        let failure = match &signal {
            Signal::Failed(reason) => Some(reason.clone()),
            _ => None,
        };
        let effects = live
            .handoff
            .apply(Event::Inbound(signal))
            .unwrap_or_default();
        if let Some(reason) = failure.filter(|_| live.handoff.state == State::Fail) {
            live.reason = reason;
        }
        // New session details (the instance's ids) are part of the indicator's state too.
        let new_details = !payload.client_variables.is_empty() || payload.now_session_id.is_some();
        let after = (
            live.handoff.state,
            live.agent.clone(),
            live.wait_time.clone(),
        );
        if effects.is_empty() && before == after && !new_details {
            return Ok(Vec::new());
        }
        self.effects(session, live, &effects)
    }

    /// Whether a payload answers a request sent before the current conversation left a
    /// finished handoff (`Live::ended_requests_upto`).
    fn answers_an_ended_handoff(&self, live: &Live, payload: &VaPayload) -> CoreResult<bool> {
        let (Some(upto), Some(request_id)) =
            (live.ended_requests_upto, payload.request_id.as_deref())
        else {
            return Ok(false);
        };
        let conn = self.core.db().conn();
        let rowid: Option<i64> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT rowid FROM chat_requests WHERE request_id = ?1",
            [request_id],
            |r| r.get(0),
        ))?;
        Ok(rowid.is_some_and(|r| r <= upto))
    }
}
