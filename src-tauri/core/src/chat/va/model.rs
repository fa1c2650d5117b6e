//! The wire types of the Virtual Agent Bot Integration API (its API reference) and the LiveChat webhook
//! (the LiveChat handoff spec): the request the app POSTs, and a lenient parser of what the VA sends back.
//!
//! Inbound payloads come from instances of many releases, customised by outbound transformation
//! scripts, so the parser works on a `serde_json::Value` and reads every field by hand: numbers
//! may arrive as strings and strings as numbers (`score: "0.92"`), `body` may be one object
//! instead of an array, unknown fields are ignored, unknown `uiType`s are kept as
//! [`Element::Unknown`]. Invariant: [`parse_payload`] never panics, whatever the bytes (the fuzz
//! target in `fuzz/` checks it).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Outbound
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Inbound
// ---------------------------------------------------------------------------------------------

/// One payload from the VA: a webhook delivery, or the answer of a synchronous request.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VaPayload {
    pub request_id: Option<String>,
    pub client_session_id: Option<String>,
    pub now_session_id: Option<String>,
    pub user_id: Option<String>,
    /// The LiveChat status (the LiveChat handoff spec), when the payload carries one.
    pub status: Option<WireStatus>,
    pub error_message: Option<String>,
    /// Messages come from a live agent.
    pub agent_chat: bool,
    /// The VA completed the conversation.
    pub completed: bool,
    /// The LiveChat handoff spec: with `agentChat`, the agent took control; the VA Bot Integration API reference: alone, the VA hands control
    /// back to the primary bot.
    pub take_control: bool,
    /// NLU confidence in 0..=1 (see [`score`]).
    pub score: Option<f64>,
    /// When the instance stamped the payload, in Unix milliseconds (seconds are converted).
    pub timestamp_ms: Option<i64>,
    /// Explicit message identity, when the instance sends one (`messageId`, or the body's
    /// `feedback.messageId` on releases with Now Assist).
    pub message_id: Option<String>,
    pub client_variables: Map<String, Value>,
    pub body: Vec<BodyItem>,
    /// The body elements exactly as received (one object is wrapped in a list), for clients
    /// that render the VA reference's elements themselves. Never sanitised here: see `chat::sanitize`.
    #[serde(skip)]
    pub raw_body: Vec<Value>,
}

/// The LiveChat handoff spec's status values; anything else is kept verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WireStatus {
    Active,
    Waiting,
    Connected,
    Completed,
    Fail,
    Cancelled,
    Other(String),
}

impl WireStatus {
    fn parse(text: &str) -> WireStatus {
        match text.trim().to_ascii_lowercase().as_str() {
            "active" => WireStatus::Active,
            "waiting" => WireStatus::Waiting,
            "connected" => WireStatus::Connected,
            "completed" | "complete" => WireStatus::Completed,
            "fail" | "failed" | "failure" | "error" => WireStatus::Fail,
            "cancelled" | "canceled" => WireStatus::Cancelled,
            _ => WireStatus::Other(text.to_owned()),
        }
    }
}

/// One element of `body`, with the fields every element may carry.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyItem {
    /// The rich control group (`DefaultText`, `DefaultPicker`…), when given.
    pub group: Option<String>,
    pub agent_info: Option<AgentInfo>,
    pub element: Element,
}

/// Who sent an element, when the instance's agent chat setup shares it.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AgentInfo {
    pub agent_name: Option<String>,
    pub agent_avatar: Option<String>,
    pub sent_from_agent: bool,
}

/// Every `uiType` of the VA Bot Integration API reference, and a fallback that keeps the raw element.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Element {
    /// `OutputText`: the text comes from `value`, else `message`, else `label` (attachment
    /// replies put it in `label`).
    OutputText { text: String },
    /// `OutputHtml`: HTML to sanitise before showing it.
    OutputHtml {
        html: String,
        height: Option<u32>,
        width: Option<u32>,
    },
    /// `OutputLink`: `value.action` is the URL.
    OutputLink {
        url: String,
        label: Option<String>,
        header: Option<String>,
    },
    /// `OutputImage`: `value` is the image URL.
    OutputImage { url: String, label: Option<String> },
    /// `OutputCard`: `data` is a JSON string rendered with `templateName`.
    OutputCard {
        template_name: Option<String>,
        /// The parsed `data`, or the string itself when it is not JSON.
        data: Value,
    },
    /// `GroupedPartsOutputControl`: a header and a list of parts.
    GroupedParts {
        header: Option<String>,
        parts: Vec<Part>,
    },
    /// `Picker`, `TopicPickerControl` and `Boolean`: choosing an option sends its value with
    /// `typed: false`.
    Picker(Picker),
    /// `Date`, `DateTime`, `Time`.
    DateInput {
        kind: DateKind,
        label: Option<String>,
        required: bool,
    },
    /// `InputText`; `secure` is `maskType: SECURE`: the answer is a password field, never stored.
    InputText {
        label: Option<String>,
        required: bool,
        secure: bool,
    },
    /// `FileUpload`: at most `max_count` files of `max_size_mb` each.
    FileUpload {
        label: Option<String>,
        max_count: Option<u32>,
        max_size_mb: Option<u32>,
        required: bool,
    },
    /// `ActionMsg`: typing indicators, the spinner, system messages, control changes.
    Action(ActionMsg),
    /// A `uiType` this build does not know (or none): shown as readable text where possible.
    Unknown { ui_type: String, raw: Value },
}

/// An item of a grouped-parts control.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Part {
    pub label: Option<String>,
    pub value: Option<String>,
    pub description: Option<String>,
    /// A link target when the part is clickable.
    pub action: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PickerKind {
    Picker,
    TopicPicker,
    Boolean,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateKind {
    Date,
    DateTime,
    Time,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Picker {
    pub kind: PickerKind,
    pub label: Option<String>,
    pub prompt: Option<String>,
    pub options: Vec<PickerOption>,
    pub multi_select: bool,
    pub required: bool,
    /// `List` (dropdown) or `Picture` (carousel).
    pub item_type: Option<String>,
    /// `button`, `carousel`, `list`.
    pub style: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PickerOption {
    pub label: String,
    pub value: String,
    pub description: Option<String>,
    /// Carousel image URL.
    pub attachment: Option<String>,
    /// Absent means enabled. The VA Bot Integration API reference: in bot-to-bot use the primary bot decides what is
    /// clickable, and its own examples send `enabled: false` on options meant to be picked.
    pub enabled: bool,
}

/// `uiType: ActionMsg`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionMsg {
    pub action: ActionKind,
    pub message: Option<String>,
    /// `wait_time` for the transfer spinner.
    pub spinner_type: Option<String>,
    /// As sent, e.g. "8 Seconds".
    pub wait_time: Option<String>,
    /// `wait_time` read as seconds, when it can be.
    pub wait_secs: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    StartTypingIndicator,
    EndTypingIndicator,
    StartSpinner,
    SubscribeToSupportQueue,
    SwitchToLiveAgent,
    SwitchToVirtualAgent,
    /// The LiveChat handoff spec's special case a: the agent took control.
    AgentControl,
    /// The LiveChat handoff spec's special case b: the conversation ended.
    EndConversation,
    /// Agent entered, chat closed, timed out…
    System,
    Other(String),
}

impl ActionKind {
    fn parse(text: &str) -> ActionKind {
        match text.trim() {
            "StartTypingIndicator" | "StartTypeIndicator" => ActionKind::StartTypingIndicator,
            "EndTypingIndicator" => ActionKind::EndTypingIndicator,
            "StartSpinner" => ActionKind::StartSpinner,
            "SubscribeToSupportQueue" => ActionKind::SubscribeToSupportQueue,
            "SwitchToLiveAgent" => ActionKind::SwitchToLiveAgent,
            "SwitchToVirtualAgent" => ActionKind::SwitchToVirtualAgent,
            "AgentControl" => ActionKind::AgentControl,
            "EndConversation" => ActionKind::EndConversation,
            "System" => ActionKind::System,
            other => ActionKind::Other(other.to_owned()),
        }
    }
}

/// Why bytes are not a payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseError {
    /// Not JSON at all.
    NotJson(String),
    /// JSON, but not an object.
    NotAnObject,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::NotJson(e) => write!(f, "the body is not JSON: {e}"),
            ParseError::NotAnObject => f.write_str("the body is JSON but not an object"),
        }
    }
}

impl std::error::Error for ParseError {}

/// Parses a webhook delivery or a synchronous answer. Never panics.
pub fn parse_payload(bytes: &[u8]) -> Result<VaPayload, ParseError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| ParseError::NotJson(e.to_string()))?;
    payload_from_value(&value)
}

/// [`parse_payload`] for JSON already read.
pub fn payload_from_value(value: &Value) -> Result<VaPayload, ParseError> {
    let object = value.as_object().ok_or(ParseError::NotAnObject)?;
    let field = |name: &str| object.get(name);
    let body: Vec<BodyItem> = match field("body") {
        Some(Value::Array(items)) => items.iter().map(body_item).collect(),
        Some(item @ Value::Object(_)) => vec![body_item(item)],
        _ => Vec::new(),
    };
    let raw_body: Vec<Value> = match field("body") {
        Some(Value::Array(items)) => items.clone(),
        Some(item @ Value::Object(_)) => vec![item.clone()],
        _ => Vec::new(),
    };
    let message_id = field("messageId").and_then(text).or_else(|| {
        field("body").and_then(Value::as_array).and_then(|items| {
            items
                .iter()
                .find_map(|i| i.pointer("/feedback/messageId").and_then(text))
        })
    });
    Ok(VaPayload {
        request_id: field("requestId").and_then(text),
        client_session_id: field("clientSessionId").and_then(text),
        now_session_id: field("nowSessionId").and_then(text),
        user_id: field("userId").and_then(text),
        status: field("status")
            .and_then(text)
            .filter(|s| !s.trim().is_empty())
            .map(|s| WireStatus::parse(&s)),
        error_message: field("error_message")
            .or_else(|| field("errorMessage"))
            .and_then(text)
            .filter(|s| !s.trim().is_empty()),
        agent_chat: field("agentChat").and_then(flag).unwrap_or(false),
        completed: field("completed").and_then(flag).unwrap_or(false),
        take_control: field("takeControl").and_then(flag).unwrap_or(false),
        score: field("score").and_then(score),
        timestamp_ms: field("timestamp").and_then(timestamp_ms),
        message_id,
        client_variables: field("clientVariables")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default(),
        body,
        raw_body,
    })
}

fn body_item(raw: &Value) -> BodyItem {
    let get = |name: &str| raw.get(name);
    let string = |name: &str| get(name).and_then(text).filter(|s| !s.is_empty());
    let boolean = |name: &str| get(name).and_then(flag).unwrap_or(false);
    let integer = |name: &str| {
        get(name)
            .and_then(number)
            .filter(|n| n.is_finite() && *n >= 0.0)
            .map(|n| n.min(f64::from(u32::MAX)) as u32)
    };
    let ui_type = get("uiType").and_then(text).unwrap_or_default();
    let agent_info = get("agentInfo")
        .and_then(Value::as_object)
        .map(|info| AgentInfo {
            agent_name: info.get("agentName").and_then(text),
            agent_avatar: info
                .get("agentAvatar")
                .and_then(text)
                .filter(|s| !s.is_empty()),
            sent_from_agent: info.get("sentFromAgent").and_then(flag).unwrap_or(true),
        });
    let picker = |kind| {
        Element::Picker(Picker {
            kind,
            label: string("label"),
            prompt: string("promptMsg"),
            options: options(get("options")),
            multi_select: boolean("multiSelect"),
            required: boolean("required"),
            item_type: string("itemType"),
            style: string("style"),
        })
    };
    let date = |kind| Element::DateInput {
        kind,
        label: string("label"),
        required: boolean("required"),
    };
    let element = match ui_type.as_str() {
        "OutputText" => Element::OutputText {
            text: string("value")
                .or_else(|| string("message"))
                .or_else(|| string("label"))
                .unwrap_or_default(),
        },
        "OutputHtml" => Element::OutputHtml {
            html: string("value")
                .or_else(|| string("message"))
                .unwrap_or_default(),
            height: integer("height"),
            width: integer("width"),
        },
        "OutputLink" => Element::OutputLink {
            url: get("value")
                .and_then(|v| v.get("action").and_then(text).or_else(|| text(v)))
                .unwrap_or_default(),
            label: string("label"),
            header: string("header"),
        },
        "OutputImage" => Element::OutputImage {
            url: get("value")
                .and_then(|v| {
                    text(v).or_else(|| v.get("url").or_else(|| v.get("action")).and_then(text))
                })
                .unwrap_or_default(),
            label: string("label").or_else(|| string("altText")),
        },
        "OutputCard" => Element::OutputCard {
            template_name: string("templateName"),
            data: match get("data") {
                Some(Value::String(s)) => {
                    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                }
                Some(other) => other.clone(),
                None => Value::Null,
            },
        },
        "GroupedPartsOutputControl" => Element::GroupedParts {
            header: string("header").or_else(|| string("label")),
            parts: parts(raw),
        },
        "Picker" => picker(PickerKind::Picker),
        "TopicPickerControl" => picker(PickerKind::TopicPicker),
        "Boolean" => {
            let mut element = picker(PickerKind::Boolean);
            // A Boolean without options still needs two answers to click.
            if let Element::Picker(p) = &mut element {
                if p.options.is_empty() {
                    // The values the window and the console send back for it.
                    p.options = [("Yes", "true"), ("No", "false")]
                        .iter()
                        .map(|(label, value)| PickerOption {
                            label: (*label).to_owned(),
                            value: (*value).to_owned(),
                            enabled: true,
                            ..PickerOption::default()
                        })
                        .collect();
                }
            }
            element
        }
        "Date" => date(DateKind::Date),
        "DateTime" => date(DateKind::DateTime),
        "Time" => date(DateKind::Time),
        "InputText" => Element::InputText {
            label: string("label").or_else(|| string("promptMsg")),
            required: boolean("required"),
            secure: string("maskType").is_some_and(|m| m.eq_ignore_ascii_case("SECURE")),
        },
        "FileUpload" => Element::FileUpload {
            label: string("label").or_else(|| string("promptMsg")),
            max_count: integer("maxCount"),
            max_size_mb: integer("maxSize"),
            required: boolean("required"),
        },
        "ActionMsg" => {
            let wait_time = string("waitTime");
            Element::Action(ActionMsg {
                action: ActionKind::parse(&string("actionType").unwrap_or_default()),
                message: string("message").or_else(|| string("value")),
                spinner_type: string("spinnerType"),
                wait_secs: wait_time.as_deref().and_then(wait_seconds),
                wait_time,
            })
        }
        _ => Element::Unknown {
            ui_type: ui_type.clone(),
            raw: raw.clone(),
        },
    };
    BodyItem {
        group: string("group"),
        agent_info,
        element,
    }
}

fn options(value: Option<&Value>) -> Vec<PickerOption> {
    let Some(Value::Array(items)) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::Object(o) => {
                let label = o.get("label").and_then(text);
                let value = o.get("value").and_then(text);
                let (label, value) = match (label, value) {
                    (Some(l), Some(v)) => (l, v),
                    (Some(l), None) => (l.clone(), l),
                    (None, Some(v)) => (v.clone(), v),
                    (None, None) => return None,
                };
                Some(PickerOption {
                    label,
                    value,
                    description: o.get("description").and_then(text),
                    attachment: o.get("attachment").and_then(text).filter(|s| !s.is_empty()),
                    enabled: o.get("enabled").and_then(flag).unwrap_or(true),
                })
            }
            // A bare string option: label and value alike.
            other => text(other).map(|s| PickerOption {
                label: s.clone(),
                value: s,
                enabled: true,
                ..PickerOption::default()
            }),
        })
        .collect()
}

/// The parts of a grouped control: `values`, `parts`, `options` or a JSON `data` string.
fn parts(raw: &Value) -> Vec<Part> {
    let from_data = raw
        .get("data")
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Value>(s).ok());
    let list = ["values", "parts", "options"]
        .iter()
        .find_map(|k| raw.get(*k).and_then(Value::as_array).cloned())
        .or_else(|| from_data.and_then(|d| d.as_array().cloned()))
        .unwrap_or_default();
    list.iter()
        .map(|p| Part {
            label: p.get("label").and_then(text),
            value: p.get("value").and_then(text).or_else(|| text(p)),
            description: p.get("description").and_then(text),
            action: p
                .get("action")
                .and_then(|a| text(a).or_else(|| a.get("action").and_then(text))),
        })
        .collect()
}

/// A string, or a number or boolean written as one; never an object or array.
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A number, or a string holding one (`"0.92"`, `" 8 "`, `"87.3%"` → 87.3).
pub fn number(value: &Value) -> Option<f64> {
    let n = match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches('%').trim().parse().ok(),
        _ => None,
    };
    n.filter(|n: &f64| n.is_finite())
}

/// `true`/`false`, their strings, or 1/0.
pub fn flag(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" | "" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_f64().map(|n| n != 0.0),
        _ => None,
    }
}

/// The NLU score as a share in 0..=1. The VA Bot Integration API reference says "a percent, such as 87.3%" while its
/// examples send `1`, `0` and `"0.92"`: a `%` sign or a value above 1 is read as a percent.
pub fn score(value: &Value) -> Option<f64> {
    let percent = value.as_str().is_some_and(|s| s.trim().ends_with('%'));
    let n = number(value)?;
    let share = if percent || n > 1.0 { n / 100.0 } else { n };
    Some(share.clamp(0.0, 1.0))
}

/// Unix seconds or milliseconds (number or string) as milliseconds: values below 10^11 are
/// seconds (10^11 s is the year 5138; 10^11 ms is 1973).
pub fn timestamp_ms(value: &Value) -> Option<i64> {
    let n = number(value)?;
    if !(0.0..1.0e15).contains(&n) {
        return None;
    }
    let ms = if n < 1.0e11 { n * 1000.0 } else { n };
    Some(ms as i64)
}

/// "8 Seconds", "2 minutes", "90" → seconds.
fn wait_seconds(text: &str) -> Option<u64> {
    let lower = text.trim().to_ascii_lowercase();
    let digits: String = lower.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().ok()?;
    let unit = lower[digits.len()..].trim();
    let factor = if unit.starts_with("min") {
        60
    } else if unit.starts_with('h') {
        3600
    } else {
        1
    };
    n.checked_mul(factor)
}

impl VaPayload {
    /// The ActionMsgs of the body, in order.
    pub fn actions(&self) -> impl Iterator<Item = &ActionMsg> {
        self.body.iter().filter_map(|i| match &i.element {
            Element::Action(a) => Some(a),
            _ => None,
        })
    }

    /// The agent named in any element, if any.
    pub fn agent_name(&self) -> Option<&str> {
        self.body
            .iter()
            .filter_map(|i| i.agent_info.as_ref())
            .find_map(|a| a.agent_name.as_deref())
            .filter(|n| !n.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_serialize_as_seed_002_shows() {
        let request = VaRequest {
            request_id: "34re-dasd-qwe23-dsds".into(),
            action: Some(Action::Agent),
            enterprise_id: Some("ServiceNow".into()),
            now_bot_id: Some("A85PWLERF".into()),
            client_session_id: "s1".into(),
            message: OutMessage {
                text: Some("How are you?".into()),
                typed: true,
                client_message_id: Some("ABC-123".into()),
                attachment: None,
            },
            user_id: "abraham.lincoln".into(),
            email_id: Some("abraham.lincoln@example.com".into()),
            timestamp: Some(1588824102),
            timezone: Some("America/New_York".into()),
            context_variables: BTreeMap::from([("b2b_category".into(), json!("humanresource"))]),
            ..VaRequest::default()
        };
        assert_eq!(
            serde_json::to_value(&request).unwrap(),
            json!({
                "requestId": "34re-dasd-qwe23-dsds", "action": "AGENT", "enterpriseId": "ServiceNow",
                "nowBotId": "A85PWLERF", "clientSessionId": "s1",
                "message": {"text": "How are you?", "typed": true, "clientMessageId": "ABC-123"},
                "userId": "abraham.lincoln", "emailId": "abraham.lincoln@example.com",
                "timestamp": 1588824102, "timezone": "America/New_York",
                "contextVariables": {"b2b_category": "humanresource"}
            })
        );
        let switch = VaRequest {
            action: Some(Action::Switch),
            intent: Some(Intent {
                id: "Saloon Vehicle".into(),
            }),
            message: OutMessage {
                attachment: Some(Attachment {
                    client_attachment_id: Some("a1".into()),
                    content_type: "application/pdf".into(),
                    file_name: "MY PDF TEST".into(),
                    url: "http://example.com/sample.pdf".into(),
                }),
                ..OutMessage::default()
            },
            ..VaRequest::default()
        };
        let value = serde_json::to_value(&switch).unwrap();
        assert_eq!(value["action"], "SWITCH");
        assert_eq!(value["intent"]["id"], "Saloon Vehicle");
        assert_eq!(
            value["message"]["attachment"],
            json!({"clientAttachmentId": "a1", "contentType": "application/pdf", "fileName": "MY PDF TEST", "url": "http://example.com/sample.pdf"})
        );
    }

    #[test]
    fn debug_of_a_request_hides_the_text() {
        let message = OutMessage {
            text: Some("hunter2-password".into()),
            typed: true,
            ..OutMessage::default()
        };
        assert!(!format!("{message:?}").contains("hunter2"));
    }

    fn one(element: Value) -> Element {
        let payload = payload_from_value(&json!({"body": [element]})).unwrap();
        payload.body[0].element.clone()
    }

    #[test]
    fn every_ui_type_of_seed_002_parses() {
        let cases: Vec<(Value, Element)> = vec![
            (
                json!({"uiType": "OutputText", "group": "DefaultText", "value": "Hi", "maskType": "NONE"}),
                Element::OutputText { text: "Hi".into() },
            ),
            (
                json!({"uiType": "OutputText", "label": "File got", "itemType": "outputtext"}),
                Element::OutputText {
                    text: "File got".into(),
                },
            ),
            (
                json!({"uiType": "OutputHtml", "value": "<b>x</b>", "height": "120", "width": 300}),
                Element::OutputHtml {
                    html: "<b>x</b>".into(),
                    height: Some(120),
                    width: Some(300),
                },
            ),
            (
                json!({"uiType": "OutputLink", "type": "link", "header": "KB", "label": "Open", "value": {"action": "https://x/kb"}}),
                Element::OutputLink {
                    url: "https://x/kb".into(),
                    label: Some("Open".into()),
                    header: Some("KB".into()),
                },
            ),
            (
                json!({"uiType": "OutputImage", "value": "https://x/i.png"}),
                Element::OutputImage {
                    url: "https://x/i.png".into(),
                    label: None,
                },
            ),
            (
                json!({"uiType": "OutputCard", "templateName": "Card", "data": "{\"title\":\"INC1\"}"}),
                Element::OutputCard {
                    template_name: Some("Card".into()),
                    data: json!({"title": "INC1"}),
                },
            ),
            (
                json!({"uiType": "OutputCard", "data": "not json"}),
                Element::OutputCard {
                    template_name: None,
                    data: json!("not json"),
                },
            ),
            (
                json!({"uiType": "GroupedPartsOutputControl", "header": "Results", "values": [{"label": "a", "value": "1", "action": "https://x"}]}),
                Element::GroupedParts {
                    header: Some("Results".into()),
                    parts: vec![Part {
                        label: Some("a".into()),
                        value: Some("1".into()),
                        description: None,
                        action: Some("https://x".into()),
                    }],
                },
            ),
            (
                json!({"uiType": "Date", "label": "When?", "required": "true"}),
                Element::DateInput {
                    kind: DateKind::Date,
                    label: Some("When?".into()),
                    required: true,
                },
            ),
            (
                json!({"uiType": "DateTime"}),
                Element::DateInput {
                    kind: DateKind::DateTime,
                    label: None,
                    required: false,
                },
            ),
            (
                json!({"uiType": "Time", "label": "t"}),
                Element::DateInput {
                    kind: DateKind::Time,
                    label: Some("t".into()),
                    required: false,
                },
            ),
            (
                json!({"uiType": "InputText", "label": "Password", "maskType": "SECURE", "required": true}),
                Element::InputText {
                    label: Some("Password".into()),
                    required: true,
                    secure: true,
                },
            ),
            (
                json!({"uiType": "InputText", "label": "limo input:", "maskType": "NONE"}),
                Element::InputText {
                    label: Some("limo input:".into()),
                    required: false,
                    secure: false,
                },
            ),
            (
                json!({"uiType": "FileUpload", "label": "Upload", "maxCount": 3, "maxSize": "10"}),
                Element::FileUpload {
                    label: Some("Upload".into()),
                    max_count: Some(3),
                    max_size_mb: Some(10),
                    required: false,
                },
            ),
            (
                json!({"uiType": "ActionMsg", "actionType": "StartSpinner", "spinnerType": "wait_time", "message": "Routing you to a live agent...", "waitTime": "8 Seconds"}),
                Element::Action(ActionMsg {
                    action: ActionKind::StartSpinner,
                    message: Some("Routing you to a live agent...".into()),
                    spinner_type: Some("wait_time".into()),
                    wait_time: Some("8 Seconds".into()),
                    wait_secs: Some(8),
                }),
            ),
            (
                json!({"uiType": "ActionMsg", "actionType": "StartTypingIndicator"}),
                Element::Action(ActionMsg {
                    action: ActionKind::StartTypingIndicator,
                    message: None,
                    spinner_type: None,
                    wait_time: None,
                    wait_secs: None,
                }),
            ),
            (
                json!({"uiType": "Carousel3D", "x": 1}),
                Element::Unknown {
                    ui_type: "Carousel3D".into(),
                    raw: json!({"uiType": "Carousel3D", "x": 1}),
                },
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(one(raw.clone()), expected, "{raw}");
        }
        for (name, kind) in [
            ("Picker", PickerKind::Picker),
            ("TopicPickerControl", PickerKind::TopicPicker),
            ("Boolean", PickerKind::Boolean),
        ] {
            let Element::Picker(p) = one(
                json!({"uiType": name, "label": "Pick", "multiSelect": false,
                "options": [{"label": "End conversation", "value": "1", "renderStyle": "data", "enabled": false}, {"label": "Cancel", "value": 0}]}),
            ) else {
                panic!("{name}")
            };
            assert_eq!(p.kind, kind);
            assert_eq!(p.options.len(), 2);
            assert!(!p.options[0].enabled);
            assert_eq!(p.options[1].value, "0");
        }
    }

    #[test]
    fn payload_flags_and_scores_are_lenient() {
        let p = payload_from_value(&json!({
            "requestId": 42, "clientSessionId": "s", "score": "0.92", "agentChat": "true",
            "completed": 1, "takeControl": false, "status": "Connected", "timestamp": 1588824102,
            "unknownField": {"deep": [1, 2]},
            "body": {"uiType": "ActionMsg", "actionType": "StartTypingIndicator",
                     "agentInfo": {"agentName": "Beth Anglin", "agentAvatar": "", "sentFromAgent": true}}
        }))
        .unwrap();
        assert_eq!(p.request_id.as_deref(), Some("42"));
        assert_eq!(p.score, Some(0.92));
        assert!(p.agent_chat && p.completed && !p.take_control);
        assert_eq!(p.status, Some(WireStatus::Connected));
        assert_eq!(p.timestamp_ms, Some(1_588_824_102_000));
        assert_eq!(p.agent_name(), Some("Beth Anglin"));
        assert_eq!(p.body.len(), 1);
        for (raw, expected) in [
            (json!(1), Some(1.0)),
            (json!(0), Some(0.0)),
            (json!("87.3%"), Some(0.873)),
            (json!(87.3), Some(0.873)),
            (json!("x"), None),
            (json!(null), None),
        ] {
            let got = score(&raw);
            assert!(
                match (got, expected) {
                    (Some(a), Some(b)) => (a - b).abs() < 1e-9,
                    (None, None) => true,
                    _ => false,
                },
                "{raw}: {got:?}"
            );
        }
        assert_eq!(
            timestamp_ms(&json!(1_588_824_102_123_i64)),
            Some(1_588_824_102_123)
        );
        assert_eq!(timestamp_ms(&json!("1588824102")), Some(1_588_824_102_000));
        assert_eq!(timestamp_ms(&json!(-5)), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for bytes in [
            &b""[..],
            b"[]",
            b"null",
            b"{",
            b"\xff\xfe",
            b"{\"body\": 5}",
        ] {
            let _ = parse_payload(bytes);
        }
        assert_eq!(parse_payload(b"[]"), Err(ParseError::NotAnObject));
        assert!(parse_payload(b"{\"body\": 5}").unwrap().body.is_empty());
    }
}
