//! The lenient parser of what the Virtual Agent sends back: payloads from instances of many
//! releases, customised by outbound transformation scripts, read field by field from a
//! `serde_json::Value` (numbers as strings, one object for an array, unknown fields ignored,
//! unknown `uiType`s kept). Invariant: [`parse_payload`] never panics, whatever the bytes (the
//! fuzz target in `fuzz/` checks it).

use std::fmt;

use serde_json::Value;

use super::model::*;

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
