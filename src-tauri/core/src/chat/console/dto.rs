//! The chat console's contract with the window and the CLI: sessions, messages and events as
//! they are serialised, and how a stored transcript row becomes a message.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::chat::bot::BotAnswer;
use crate::chat::handoff::State;
use crate::chat::sanitize::{sanitize_body, typing_only};
use crate::chat::store::{self as chat_store, Direction, Mode};

pub type ChatMode = Mode;
pub type HandoffState = State;
pub type ChatFrom = Direction;
pub use crate::chat::bot::Citation;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentInfo {
    pub name: Option<String>,
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatAttachment {
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Feedback {
    Helpful,
    NotHelpful,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub id: i64,
    pub session_id: String,
    /// Conversation order (the transcript's order key, milliseconds); ties by `id`.
    pub seq: i64,
    pub at: String,
    pub from: ChatFrom,
    pub text: Option<String>,
    pub answer: Option<BotAnswer>,
    /// The VA Bot Integration API reference's body elements as received, OutputHtml sanitised.
    pub body: Vec<Value>,
    pub agent: Option<AgentInfo>,
    /// For `from: agent`: written by the live agent (`agentChat`), not by the instance's
    /// Virtual Agent (its greeting, topic pickers, "please stand by").
    pub live_agent: bool,
    pub feedback: Option<Feedback>,
    pub attachment: Option<ChatAttachment>,
}

/// What the instance told about the conversation, shown in the session details.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatSessionDetails {
    /// The app's conversation id, sent as `clientSessionId`.
    pub client_session_id: String,
    /// The instance's conversation id (`nowSessionId`), once it gave one.
    pub now_session_id: Option<String>,
    /// The LiveChat handoff spec's `clientVariables` (tenantId, botId, conversationId…) of
    /// the latest payload that carried them.
    pub client_variables: Option<Value>,
}

impl ChatSessionDetails {
    pub(super) fn of(session: &chat_store::Session) -> ChatSessionDetails {
        ChatSessionDetails {
            client_session_id: session.client_session_id.clone(),
            now_session_id: session.now_session_id.clone(),
            client_variables: session.client_variables.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSession {
    pub id: String,
    pub mode: ChatMode,
    pub state: HandoffState,
    pub started_at: String,
    pub updated_at: String,
    pub agent: Option<AgentInfo>,
    pub waiting_since: Option<String>,
    pub notice: Option<String>,
    /// The live agent took control of the conversation (the LiveChat spec's special case a).
    pub take_control: bool,
    /// The wait the instance announced with its spinner ("8 Seconds"), while waiting.
    pub wait_time: Option<String>,
    /// Why the handoff failed (the fail payload's `error_message`), in state `fail`.
    pub reason: Option<String>,
    pub details: ChatSessionDetails,
    pub messages: Vec<ChatMessage>,
}

/// The user's answer to a control (picker option, boolean, date, input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReply {
    pub value: String,
    pub label: String,
    pub typed: bool,
    /// The answer to a SECURE input: sent to the VA, stored and shown only as a placeholder.
    #[serde(default)]
    pub secure: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatEvent {
    Message {
        session_id: String,
        /// Boxed: the largest variant by far; serialises as the message itself.
        message: Box<ChatMessage>,
    },
    /// Who is in control: the control indicator's whole state, sent on every change.
    State {
        session_id: String,
        state: HandoffState,
        notice: Option<String>,
        agent: Option<AgentInfo>,
        take_control: bool,
        wait_time: Option<String>,
        reason: Option<String>,
        details: ChatSessionDetails,
    },
    Typing {
        session_id: String,
        on: bool,
    },
    WaitTimeout {
        session_id: String,
        waited_s: u64,
    },
}

// ---- options and the service ----------------------------------------------------------------

/// A stored row as the UI contract's message; `None` for rows that are not shown (payloads of
/// typing indicators only, which are events).
pub fn to_chat_message(m: &chat_store::Message) -> Option<ChatMessage> {
    let mut out = ChatMessage {
        id: m.id,
        session_id: m.session_id.to_string(),
        seq: m.order_key,
        at: m.created_at.clone(),
        from: m.direction,
        text: None,
        answer: None,
        body: Vec::new(),
        agent: None,
        live_agent: false,
        feedback: m.helpful.map(|h| {
            if h {
                Feedback::Helpful
            } else {
                Feedback::NotHelpful
            }
        }),
        attachment: None,
    };
    match m.kind.as_str() {
        "bot_answer" => {
            let answer: Option<BotAnswer> = serde_json::from_value(m.body.clone()).ok();
            out.text = answer
                .as_ref()
                .map(|a| a.text.clone())
                .or_else(|| m.body["text"].as_str().map(str::to_owned));
            out.answer = answer;
        }
        "va_payload" => {
            let raw = m.body["body"].as_array().cloned().unwrap_or_default();
            if typing_only(&raw) {
                return None;
            }
            out.body = sanitize_body(&raw);
            // Contract: VA bot and live agent both show as "agent"; `live_agent` tells them apart.
            out.live_agent = m.direction == Direction::Agent;
            out.from = Direction::Agent;
            let name = m.body["agentName"].as_str().map(str::to_owned);
            let avatar = raw
                .iter()
                .find_map(|e| {
                    e["agentInfo"]["agentAvatar"]
                        .as_str()
                        .filter(|s| !s.is_empty())
                })
                .map(str::to_owned);
            if name.is_some() || avatar.is_some() {
                out.agent = Some(AgentInfo { name, avatar });
            }
            if let Some(error) = m.body["errorMessage"].as_str() {
                out.text = Some(error.to_owned());
            }
        }
        "attachment" => {
            out.text = m.body["text"].as_str().map(str::to_owned);
            let a = &m.body["attachment"];
            out.attachment = Some(ChatAttachment {
                file_name: a["file_name"]
                    .as_str()
                    .or(a["fileName"].as_str())
                    .unwrap_or("attachment")
                    .to_owned(),
                content_type: a["content_type"]
                    .as_str()
                    .or(a["contentType"].as_str())
                    .unwrap_or("application/octet-stream")
                    .to_owned(),
                size: a["size"].as_u64().unwrap_or(0),
            });
        }
        _ => {
            out.text = m.body["text"].as_str().map(str::to_owned);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_serialize_as_the_ui_contract_says() {
        let e = ChatEvent::State {
            session_id: "1".into(),
            state: State::Waiting,
            notice: None,
            agent: None,
            take_control: false,
            wait_time: Some("8 Seconds".into()),
            reason: None,
            details: ChatSessionDetails {
                client_session_id: "sb-1".into(),
                ..ChatSessionDetails::default()
            },
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"type": "state", "session_id": "1", "state": "waiting", "notice": null, "agent": null,
                   "take_control": false, "wait_time": "8 Seconds", "reason": null,
                   "details": {"client_session_id": "sb-1", "now_session_id": null, "client_variables": null}})
        );
        let e = ChatEvent::WaitTimeout {
            session_id: "1".into(),
            waited_s: 3,
        };
        assert_eq!(serde_json::to_value(&e).unwrap()["type"], "wait_timeout");
        let reply: ChatReply =
            serde_json::from_value(json!({"value": "1", "label": "Yes", "typed": false})).unwrap();
        assert!(!reply.secure);
    }

    #[test]
    fn rows_become_contract_messages() {
        let row = chat_store::Message {
            id: 7,
            session_id: 2,
            direction: Direction::Bot,
            kind: "va_payload".into(),
            body: json!({"body": [{"uiType": "OutputHtml", "value": "<b>x</b><script>1</script>", "agentInfo": {"agentName": "Beth", "agentAvatar": "https://a/b.png"}}], "agentName": "Beth"}),
            order_key: 1000,
            request_id: None,
            delivery_id: Some("d".into()),
            created_at: "2024-01-01T00:00:00Z".into(),
            helpful: None,
        };
        let m = to_chat_message(&row).unwrap();
        assert_eq!(m.from, Direction::Agent);
        assert_eq!(m.body[0]["value"], "<b>x</b>");
        assert_eq!(m.agent.unwrap().avatar.as_deref(), Some("https://a/b.png"));
        assert_eq!(m.session_id, "2");
        assert_eq!(m.seq, 1000);
        let typing = chat_store::Message {
            body: json!({"body": [{"uiType": "ActionMsg", "actionType": "StartTypingIndicator"}]}),
            ..row
        };
        assert!(to_chat_message(&typing).is_none());
    }
}
