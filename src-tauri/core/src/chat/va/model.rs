//! The wire types of the Virtual Agent Bot Integration API (its API reference) and the LiveChat webhook
//! (the LiveChat handoff spec): what the VA sends back, as the parser (`parse`) reads it. The
//! request the app POSTs lives in `request`; both are re-exported here.
//!
//! Inbound payloads come from instances of many releases, customised by outbound transformation
//! scripts, so the parser works on a `serde_json::Value` and reads every field by hand: numbers
//! may arrive as strings and strings as numbers (`score: "0.92"`), `body` may be one object
//! instead of an array, unknown fields are ignored, unknown `uiType`s are kept as
//! [`Element::Unknown`]. Invariant: [`parse_payload`] never panics, whatever the bytes (the fuzz
//! target in `fuzz/` checks it).

use serde::Serialize;
use serde_json::{Map, Value};

pub use super::parse::{
    flag, number, parse_payload, payload_from_value, score, text, timestamp_ms, ParseError,
};
pub use super::request::*;

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
    pub(super) fn parse(text: &str) -> WireStatus {
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
    pub(super) fn parse(text: &str) -> ActionKind {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

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
