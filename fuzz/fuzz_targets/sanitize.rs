//! Fuzz target: the OutputHtml sanitizer and the plain-text rendering of body elements never
//! panic, and what the sanitizer lets through (once, and sanitized again) carries no script,
//! event handler or javascript: link.
//!
//! Like `va_payload`, the modules are compiled in directly (`chat::va::model` and
//! `chat::sanitize` depend only on serde_json and ammonia), not through supportbot-core.
#![no_main]

#[allow(dead_code)]
mod chat;

use chat::sanitize::{body_text, html_to_text, sanitize_body, sanitize_html};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let clean = sanitize_html(&text);
    // Not a fixed point (HTML re-parsing moves mis-nested tags), but safe both times.
    assert_safe(&clean);
    assert_safe(&sanitize_html(&clean));
    let _ = html_to_text(&clean);
    // The same bytes as body elements (JSON), as an instance would send them.
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        let elements = match value {
            serde_json::Value::Array(items) => items,
            other => vec![other],
        };
        let _ = sanitize_body(&elements);
        let _ = body_text(&elements);
    }
});

/// Text is escaped, so every `<` left is a tag the allow-list kept: checks the tags only.
fn assert_safe(clean: &str) {
    for tag in clean.split('<').skip(1) {
        let tag = tag
            .split('>')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        assert!(!tag.starts_with("script"), "a script survived: {clean}");
        assert!(
            !tag.contains("href=\"javascript:") && !tag.contains("src=\"javascript:"),
            "a javascript: link survived: {clean}"
        );
        assert!(!has_handler(&tag), "an event handler survived: {clean}");
    }
}

/// Whether a tag's text has an attribute named `on…` outside quoted values.
fn has_handler(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    let mut quote = None;
    for (i, b) in bytes.iter().enumerate() {
        match (quote, *b) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, b'"') | (None, b'\'') => quote = Some(*b),
            (None, c) if c.is_ascii_whitespace() => {
                let rest = &tag[i + 1..];
                if rest.starts_with("on") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect();
                    if name.len() > 2 && rest[name.len()..].trim_start().starts_with('=') {
                        return true;
                    }
                }
            }
            _ => {}
        }
    }
    false
}
