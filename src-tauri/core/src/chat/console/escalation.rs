//! Handing the conversation to a human: when the user asks for one, the AGENT request, and the
//! context (`context`) the agent receives with it.

use std::sync::Arc;

use super::{capitalise, refused, ChatConsole, ChatMessage, ChatSession, Inner, Live};
use crate::access::{Actor, Permission};
use crate::chat::handoff::{Event, State};
use crate::chat::store::{self as chat_store, Session};
use crate::chat::va::model::Action;
use crate::clock::now_rfc3339;
use crate::error::CoreResult;

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
        request.context_variables = {
            let conn = self.core.db().conn();
            super::context::for_agent(&chat_store::messages(&conn, session.id)?, session)
        };
        out.extend(self.effects(session, live, &effects)?);
        out.extend(self.post(session, live, request).await?);
        Ok(out)
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
