//! Sanitising what the VA sends before it reaches a renderer: `OutputHtml` values go through an
//! `ammonia` allow-list, and a plain-text rendering of body elements for the terminal.
//!
//! Invariant: every `OutputHtml` value the core hands out (IPC, events, CLI) has been through
//! [`sanitize_html`]: no scripts, styles, event handlers, forms or frames, and only `http(s)`
//! (and `mailto`) URLs, absolute. It runs when a message is read, not when stored, so rows
//! written before a rule changed are covered too.

use std::collections::HashSet;
use std::sync::OnceLock;

use ammonia::{Builder, UrlRelative};
use serde_json::Value;

use super::va::model::{payload_from_value, ActionKind, Element};

fn builder() -> &'static Builder<'static> {
    static BUILDER: OnceLock<Builder<'static>> = OnceLock::new();
    BUILDER.get_or_init(|| {
        let mut b = Builder::default();
        // The default allow-list already drops <script>, <style>, on* handlers and `style`
        // attributes; narrow the URL schemes to the web (no data:, javascript:, file:, or the
        // custom schemes ammonia allows by default) and refuse relative URLs, which would
        // resolve against the app's own origin.
        b.url_schemes(HashSet::from(["http", "https", "mailto"]))
            .url_relative(UrlRelative::Deny)
            .link_rel(Some("noopener noreferrer nofollow"));
        b
    })
}

/// The allow-listed subset of `html`.
pub fn sanitize_html(html: &str) -> String {
    builder().clean(html).to_string()
}

/// The text of `html`, with every tag removed (for the terminal).
pub fn html_to_text(html: &str) -> String {
    static EMPTY: OnceLock<Builder<'static>> = OnceLock::new();
    let text = EMPTY.get_or_init(Builder::empty).clean(html).to_string();
    // `Builder::empty` keeps text escaped as HTML; undo the few entities it writes.
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
}

/// Body elements with every `OutputHtml` `value` sanitised; everything else untouched.
pub fn sanitize_body(elements: &[Value]) -> Vec<Value> {
    elements
        .iter()
        .map(|element| {
            let is_html = element
                .get("uiType")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("OutputHtml"));
            if !is_html {
                return element.clone();
            }
            let mut element = element.clone();
            if let Some(object) = element.as_object_mut() {
                let html = object
                    .get("value")
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default();
                object.insert("value".into(), Value::String(sanitize_html(&html)));
            }
            element
        })
        .collect()
}

/// True when every element is a typing indicator: such payloads drive the `typing` event and
/// are not shown as messages.
pub fn typing_only(elements: &[Value]) -> bool {
    !elements.is_empty()
        && elements.iter().all(|e| {
            e.get("uiType").and_then(Value::as_str) == Some("ActionMsg")
                && matches!(
                    e.get("actionType").and_then(Value::as_str),
                    Some("StartTypingIndicator" | "StartTypeIndicator" | "EndTypingIndicator")
                )
        })
}

/// A readable line per element, for the terminal and for transcripts sent to the agent.
pub fn body_text(elements: &[Value]) -> Vec<String> {
    let Ok(payload) = payload_from_value(&serde_json::json!({ "body": elements })) else {
        return Vec::new();
    };
    let mut lines = Vec::new();
    for item in &payload.body {
        let line = match &item.element {
            Element::OutputText { text } => text.clone(),
            Element::OutputHtml { html, .. } => html_to_text(&sanitize_html(html)),
            Element::OutputLink { url, label, header } => {
                let name = label.clone().or(header.clone()).unwrap_or_default();
                format!("{name} <{url}>").trim().to_owned()
            }
            Element::OutputImage { url, label } => {
                format!(
                    "[image{}] <{url}>",
                    label.as_ref().map(|l| format!(": {l}")).unwrap_or_default()
                )
            }
            Element::OutputCard { data, .. } => match data {
                Value::Object(map) => map
                    .iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}: {v}")))
                    .collect::<Vec<_>>()
                    .join(", "),
                other => other.as_str().unwrap_or_default().to_owned(),
            },
            Element::GroupedParts { header, parts } => {
                let items: Vec<String> = parts
                    .iter()
                    .filter_map(|p| p.label.clone().or(p.value.clone()))
                    .collect();
                format!(
                    "{}{}",
                    header.clone().map(|h| format!("{h}: ")).unwrap_or_default(),
                    items.join("; ")
                )
            }
            Element::Picker(p) => {
                let options: Vec<&str> = p.options.iter().map(|o| o.label.as_str()).collect();
                let label = p.prompt.clone().or(p.label.clone()).unwrap_or_default();
                if options.is_empty() {
                    format!("{label} [yes | no]")
                } else {
                    format!("{label} [{}]", options.join(" | "))
                }
            }
            Element::DateInput { label, kind, .. } => {
                format!("{} ({kind:?})", label.clone().unwrap_or_default())
            }
            Element::InputText { label, secure, .. } => format!(
                "{}{}",
                label.clone().unwrap_or_default(),
                if *secure { " (secure input)" } else { "" }
            ),
            Element::FileUpload { label, .. } => {
                format!("{} (upload a file)", label.clone().unwrap_or_default())
            }
            Element::Action(a) => match a.action {
                ActionKind::StartTypingIndicator | ActionKind::EndTypingIndicator => continue,
                ActionKind::StartSpinner => {
                    let wait = a
                        .wait_time
                        .as_ref()
                        .map(|w| format!(" (wait: {w})"))
                        .unwrap_or_default();
                    format!(
                        "{}{wait}",
                        a.message.clone().unwrap_or_else(|| "Please wait…".into())
                    )
                }
                _ => a.message.clone().unwrap_or_default(),
            },
            Element::Unknown { raw, ui_type } => raw
                .get("value")
                .or_else(|| raw.get("message"))
                .or_else(|| raw.get("label"))
                .and_then(Value::as_str)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("({ui_type})")),
        };
        if !line.trim().is_empty() {
            lines.push(line);
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn html_keeps_formatting_and_drops_everything_active() {
        let cases = [
            ("<b>bold</b> <i>x</i>", "<b>bold</b> <i>x</i>"),
            ("<script>alert(1)</script>ok", "ok"),
            ("<style>p{}</style><p style=\"color:red\">t</p>", "<p>t</p>"),
            ("<img src=x onerror=alert(1)>", "<img>"),
            (
                "<a href=\"javascript:alert(1)\">x</a>",
                "<a rel=\"noopener noreferrer nofollow\">x</a>",
            ),
            (
                "<a href=\"/relative\">x</a>",
                "<a rel=\"noopener noreferrer nofollow\">x</a>",
            ),
            ("<img src=\"data:image/png;base64,AAA\">", "<img>"),
            ("<iframe src=\"https://x\"></iframe>f", "f"),
            ("<form><input></form>", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(sanitize_html(input), expected, "{input}");
        }
        let link = sanitize_html("<a href=\"https://kb.example/1\" onclick=\"x()\">KB</a>");
        assert!(link.contains("href=\"https://kb.example/1\"") && !link.contains("onclick"));
    }

    #[test]
    fn only_output_html_values_change() {
        let body = vec![
            json!({"uiType": "OutputHtml", "value": "<b>x</b><script>y</script>", "height": 10}),
            json!({"uiType": "OutputText", "value": "<script>stays text</script>"}),
        ];
        let clean = sanitize_body(&body);
        assert_eq!(clean[0]["value"], "<b>x</b>");
        assert_eq!(clean[0]["height"], 10);
        assert_eq!(clean[1], body[1]);
    }

    #[test]
    fn text_of_elements() {
        let body = vec![
            json!({"uiType": "OutputText", "value": "Hi"}),
            json!({"uiType": "ActionMsg", "actionType": "StartTypingIndicator"}),
            json!({"uiType": "OutputHtml", "value": "<p>a &amp; b</p>"}),
            json!({"uiType": "Picker", "label": "Pick", "options": [{"label": "A", "value": "a"}]}),
            json!({"uiType": "Hologram", "value": "beam"}),
        ];
        assert_eq!(body_text(&body), ["Hi", "a & b", "Pick [A]", "beam"]);
        assert!(typing_only(&body[1..2]));
        assert!(!typing_only(&body));
        assert!(!typing_only(&[]));
    }
}
