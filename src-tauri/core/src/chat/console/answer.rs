//! The knowledge-base bot's reply to a typed question, stored and published as a message, and
//! its outcome recorded (answered or declined, confidence, citations).

use std::sync::Arc;

use serde_json::json;

use super::{ChatMessage, Inner};
use crate::access::Actor;
use crate::chat::handoff::State;
use crate::chat::store::{self as chat_store, Direction, Session};
use crate::chat::{bot, outcomes};
use crate::error::{CoreError, CoreResult};

impl Inner {
    /// Answers with the knowledge-base bot on a blocking thread; a failure becomes a notice.
    pub(super) async fn answer(
        &self,
        actor: &Actor,
        session: &Session,
        text: &str,
    ) -> CoreResult<ChatMessage> {
        let core = Arc::clone(&self.core);
        let actor = actor.clone();
        let question = text.to_owned();
        let answered = tokio::task::spawn_blocking(move || bot::answer(&core, &actor, &question))
            .await
            .map_err(|e| CoreError::internal(format!("the bot stopped: {e}")))?;
        let conn = self.core.db().conn();
        let id = match answered {
            Ok(answer) => {
                let body = serde_json::to_value(&answer)
                    .map_err(|e| CoreError::internal(e.to_string()))?;
                let id =
                    chat_store::add_local(&conn, session.id, Direction::Bot, "bot_answer", &body)?;
                // What the bot did with the question: the Knowledge gaps and chat statistics.
                outcomes::record(
                    &conn,
                    id,
                    session.id,
                    &outcomes::Outcome {
                        question: text,
                        declined: answer.declined,
                        confidence: answer.confidence,
                        cited: answer.citations.iter().map(|c| c.number.clone()).collect(),
                    },
                )?;
                id
            }
            Err(e) => {
                tracing::warn!(
                    code = e.code.as_str(),
                    "the knowledge-base bot could not answer"
                );
                chat_store::add_local(
                    &conn,
                    session.id,
                    Direction::System,
                    "notice",
                    &json!({"kind": "bot_error", "state": State::Active, "text": format!("The knowledge base could not answer: {} Type \"agent\" to talk to a human.", e.message)}),
                )?
            }
        };
        let m = self.message_by_id(&conn, id)?;
        drop(conn);
        self.emit_message(session, &m);
        Ok(m)
    }
}
