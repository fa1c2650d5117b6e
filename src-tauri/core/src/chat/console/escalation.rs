//! Handing the conversation to a human: when the user asks for one, the AGENT request, and the
//! context (topic, on whose behalf, transcript) the agent receives with it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Value};

use super::{capitalise, refused, ChatConsole, ChatMessage, ChatSession, Inner, Live};
use crate::access::{Actor, Permission};
use crate::chat::handoff::{Event, State};
use crate::chat::sanitize::body_text;
use crate::chat::store::{self as chat_store, Direction, Session};
use crate::chat::va::model::Action;
use crate::clock::now_rfc3339;
use crate::error::CoreResult;

/// Transcript lines handed to the agent on escalation, and their total size.
const TRANSCRIPT_LINES: usize = 12;
const TRANSCRIPT_CHARS: usize = 2000;

/// "agent", "/agent", "human", "talk to a human" (and a few variants), whole message, any case.
pub fn wants_agent(text: &str) -> bool {
    let t = text
        .trim()
        .trim_end_matches(['.', '!', '?'])
        .trim()
        .to_lowercase();
    matches!(
        t.as_str(),
        "agent"
            | "/agent"
            | "human"
            | "/human"
            | "talk to a human"
            | "talk to an agent"
            | "live agent"
            | "a human"
            | "live agent support"
    )
}

impl ChatConsole {
    /// "Talk to a human": `action: AGENT` with the context of the bot conversation.
    pub async fn escalate(&self, actor: &Actor, session_id: &str) -> CoreResult<ChatSession> {
        actor.require(Permission::IntegrationView)?;
        chat_store::require_owner(&self.inner.core.db().conn(), actor, session_id)?;
        let (session, live) = self.inner.open(session_id)?;
        {
            let mut live = live.lock().await;
            self.inner
                .escalate_locked(actor, &session, &mut live)
                .await?;
        }
        self.inner.view(session.id).await
    }
}

impl Inner {
    pub(super) async fn escalate_locked(
        self: &Arc<Self>,
        _actor: &Actor,
        session: &Session,
        live: &mut Live,
    ) -> CoreResult<Vec<ChatMessage>> {
        // Configuration problems surface before anything changes.
        let _ = self.client(session.mode)?;
        let before = live.handoff.state;
        let effects = live
            .handoff
            .apply(Event::RequestAgent)
            .map_err(|r| refused(capitalise(r.reason)))?;
        self.left_terminal(session, live, before)?;
        live.agent = None;
        live.waiting_since = Some(now_rfc3339());
        live.wait_anchor_ms = Some(chat_store::now_ms());
        let mut out = vec![self.store_notice(
            session,
            State::Waiting,
            "waiting",
            "Connecting you to a live agent… You can keep typing; your messages go to the agent.",
        )?];
        live.notice = out[0].text.clone();
        let mut request = self.request(session, Some(Action::Agent), "Live Agent Support.", true);
        request.context_variables = self.context(session)?;
        out.extend(self.effects(session, live, &effects)?);
        out.extend(self.post(session, live, request).await?);
        Ok(out)
    }

    /// contextVariables of an escalation: the topic (the user's last question), on whose
    /// behalf, and a short transcript so the agent need not ask again.
    fn context(&self, session: &Session) -> CoreResult<BTreeMap<String, Value>> {
        let messages = {
            let conn = self.core.db().conn();
            chat_store::messages(&conn, session.id)?
        };
        let mut lines = Vec::new();
        let mut topic = None;
        for m in &messages {
            let line = match (m.direction, m.kind.as_str()) {
                (Direction::User, "text") => {
                    let t = m.body["text"].as_str().unwrap_or_default();
                    if !wants_agent(t) {
                        topic = Some(t.to_owned());
                    }
                    format!("User: {t}")
                }
                (Direction::User, "secure") => format!("User: {}", chat_store::SECURE_PLACEHOLDER),
                (Direction::User, "va_action") => {
                    format!("User: ({})", m.body["text"].as_str().unwrap_or_default())
                }
                (Direction::Bot, "bot_answer") => {
                    format!("Bot: {}", m.body["text"].as_str().unwrap_or_default())
                }
                (_, "va_payload") => {
                    let text = body_text(
                        m.body["body"]
                            .as_array()
                            .map(Vec::as_slice)
                            .unwrap_or_default(),
                    )
                    .join(" ");
                    if text.is_empty() {
                        continue;
                    }
                    format!("VA: {text}")
                }
                _ => continue,
            };
            lines.push(line);
        }
        let start = lines.len().saturating_sub(TRANSCRIPT_LINES);
        let mut transcript = lines[start..].join("\n");
        if transcript.chars().count() > TRANSCRIPT_CHARS {
            let skip = transcript.chars().count() - TRANSCRIPT_CHARS;
            transcript = format!("…{}", transcript.chars().skip(skip).collect::<String>());
        }
        let topic: String = topic
            .unwrap_or_else(|| "General support".into())
            .chars()
            .take(100)
            .collect();
        let on_behalf = session
            .email_id
            .clone()
            .unwrap_or_else(|| session.user_id.clone());
        Ok(BTreeMap::from([
            ("request_topic".to_owned(), json!(topic)),
            ("request_on_behalf_of".to_owned(), json!(on_behalf)),
            ("request_transcript".to_owned(), json!(transcript)),
        ]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escalation_words() {
        for yes in [
            "agent",
            "/agent",
            "Human",
            " talk to a human ",
            "TALK TO A HUMAN!",
            "Agent.",
        ] {
            assert!(wants_agent(yes), "{yes}");
        }
        for no in [
            "agents are slow",
            "my agent crashed",
            "humane",
            "",
            "talk to a human please",
        ] {
            assert!(!wants_agent(no), "{no}");
        }
    }
}
