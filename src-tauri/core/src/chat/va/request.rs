//! What the app sends to the Virtual Agent Bot Integration API (its API reference): the
//! request, its message and attachment, and the actions (AGENT, START_CONVERSATION…).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What the VA should do with a request. A request without an action is an utterance: the VA
/// reads `message.text` (for example "agent", "hi" or "bye" through contextual actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Action {
    StartConversation,
    /// Transfer to a live agent.
    Agent,
    /// Switch topic to `intent.id`.
    Switch,
    /// End the conversation (bot or agent); `message.text` is empty.
    EndConversation,
    FaultConversation,
    Typing,
    SetUserTimezone,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::StartConversation => "START_CONVERSATION",
            Action::Agent => "AGENT",
            Action::Switch => "SWITCH",
            Action::EndConversation => "END_CONVERSATION",
            Action::FaultConversation => "FAULT_CONVERSATION",
            Action::Typing => "TYPING",
            Action::SetUserTimezone => "SET_USER_TIMEZONE",
        }
    }
}

/// `POST /api/sn_va_as_service/bot/integration` request body, field for field as the VA Bot Integration API reference shows
/// it. Only `userId` and `message` are mandatory for the VA; the rest is sent when set.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaRequest {
    /// Unique per request; the VA echoes it in every reply, so it routes replies to a session.
    pub request_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<Action>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise_id: Option<String>,
    /// Which secondary bot, when an instance has several.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_bot_id: Option<String>,
    /// The app's conversation id; the VA keys its conversation on it.
    pub client_session_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub now_session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bot_to_bot: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub silent_message: Option<bool>,
    pub message: OutMessage,
    /// For [`Action::Switch`]: the topic to switch to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    pub user_id: String,
    /// Needed for account linking on the instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_id: Option<String>,
    /// Unix seconds, as in the VA reference's examples.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    /// IANA zone name, e.g. `America/New_York`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    /// Routing and context for the agent (`request_topic`, `request_on_behalf_of`, a transcript).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub context_variables: BTreeMap<String, Value>,
    /// Passed through and echoed in every reply.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub client_variables: BTreeMap<String, Value>,
}

/// `message` of a request. Its `Debug` shows the text's length only: the text may answer a
/// SECURE prompt (a password), and requests end up in logs and panics.
#[derive(Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OutMessage {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// True when typed, false when an option was picked.
    pub typed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

impl fmt::Debug for OutMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutMessage")
            .field("text_len", &self.text.as_ref().map(String::len))
            .field("typed", &self.typed)
            .field("client_message_id", &self.client_message_id)
            .field("attachment", &self.attachment)
            .finish()
    }
}

/// A file or URL sent to the VA.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attachment {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_attachment_id: Option<String>,
    /// A MIME type (`application/pdf`, `image/png`…).
    pub content_type: String,
    pub file_name: String,
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Intent {
    pub id: String,
}
