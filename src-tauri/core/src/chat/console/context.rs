//! What a live agent receives with a hand-off (the AGENT request's `contextVariables`), so the
//! agent sees why the bot did not solve it and the user need not repeat themselves:
//!
//! - `request_topic`: the user's last question (at most 100 characters);
//! - `request_on_behalf_of`: the user's e-mail, else the user id;
//! - `request_transcript`: the conversation as `User:` / `Bot:` / `VA:` lines, at most
//!   [`TRANSCRIPT_LINES`] lines and [`TRANSCRIPT_CHARS`] characters. A longer one is summarised:
//!   its first question, a line saying how many lines were left out, then the latest lines;
//! - `cited_incidents`: the incident numbers the bot showed, first shown first, comma-separated;
//! - `bot_outcome`: how the bot's last answer went: `declined` (it found nothing good),
//!   `unhelpful` or `helpful` (the user's rating), `answered` (not rated) or `none`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::escalation::wants_agent;
use crate::chat::sanitize::body_text;
use crate::chat::store::{self as chat_store, Direction, Message, Session};

/// Transcript lines handed to the agent, and their total size in characters.
pub const TRANSCRIPT_LINES: usize = 12;
pub const TRANSCRIPT_CHARS: usize = 2000;

/// The contextVariables of an escalation of `session`, from its transcript.
pub(super) fn for_agent(messages: &[Message], session: &Session) -> BTreeMap<String, Value> {
    let mut lines = Vec::new();
    let mut topic = None;
    let mut cited: Vec<String> = Vec::new();
    let mut outcome = "none";
    for m in messages {
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
                for c in m.body["citations"].as_array().into_iter().flatten() {
                    if let Some(n) = c["number"].as_str() {
                        if !cited.iter().any(|x| x == n) {
                            cited.push(n.to_owned());
                        }
                    }
                }
                outcome = match (m.body["declined"].as_bool(), m.helpful) {
                    (Some(true), _) => "declined",
                    (_, Some(false)) => "unhelpful",
                    (_, Some(true)) => "helpful",
                    _ => "answered",
                };
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
    let topic: String = topic
        .unwrap_or_else(|| "General support".into())
        .chars()
        .take(100)
        .collect();
    let on_behalf = session
        .email_id
        .clone()
        .unwrap_or_else(|| session.user_id.clone());
    BTreeMap::from([
        ("request_topic".to_owned(), json!(topic)),
        ("request_on_behalf_of".to_owned(), json!(on_behalf)),
        ("request_transcript".to_owned(), json!(summarise(&lines))),
        ("cited_incidents".to_owned(), json!(cited.join(", "))),
        ("bot_outcome".to_owned(), json!(outcome)),
    ])
}

/// The transcript within [`TRANSCRIPT_LINES`] and [`TRANSCRIPT_CHARS`] (see the module docs).
pub(crate) fn summarise(lines: &[String]) -> String {
    let count = |v: &[String]| v.iter().map(|l| l.chars().count() + 1).sum::<usize>();
    if lines.len() <= TRANSCRIPT_LINES && count(lines) <= TRANSCRIPT_CHARS + 1 {
        return lines.join("\n");
    }
    // The first question says what the conversation is about; keep it, shortened if need be.
    let first_at = lines.iter().position(|l| l.starts_with("User: "));
    let first: Option<String> = first_at.map(|i| cut(&lines[i], 300));
    let budget_chars = TRANSCRIPT_CHARS.saturating_sub(first.as_ref().map_or(0, |f| f.len() + 60));
    let mut latest: Vec<String> = Vec::new();
    let mut used = 0;
    for line in lines.iter().rev() {
        let line = cut(line, 500);
        let size = line.chars().count() + 1;
        if latest.len() + 2 >= TRANSCRIPT_LINES || used + size > budget_chars {
            break;
        }
        used += size;
        latest.push(line);
    }
    latest.reverse();
    let kept_from = lines.len() - latest.len();
    let mut out = Vec::new();
    let first_kept = first_at.filter(|i| *i < kept_from);
    if let (Some(first), Some(_)) = (first, first_kept) {
        out.push(first);
    }
    let left_out = kept_from - usize::from(first_kept.is_some());
    if left_out > 0 {
        out.push(format!("({left_out} earlier lines left out)"));
    }
    out.extend(latest);
    out.join("\n")
}

/// `line` cut to `max` characters, with an ellipsis when cut.
fn cut(line: &str, max: usize) -> String {
    if line.chars().count() <= max {
        return line.to_owned();
    }
    format!("{}…", line.chars().take(max - 1).collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_short_transcript_is_whole_and_a_long_one_keeps_the_first_question() {
        let short = vec![
            "User: vpn drops".to_owned(),
            "Bot: This looks like …".to_owned(),
        ];
        assert_eq!(summarise(&short), "User: vpn drops\nBot: This looks like …");
        let mut long = vec!["User: my vpn drops every ten minutes".to_owned()];
        for i in 0..40 {
            long.push(format!("Bot: answer {i} {}", "x".repeat(80)));
            long.push(format!("User: still broken {i}"));
        }
        let s = summarise(&long);
        let lines: Vec<&str> = s.lines().collect();
        assert!(lines.len() <= TRANSCRIPT_LINES, "{s}");
        assert!(
            s.chars().count() <= TRANSCRIPT_CHARS,
            "{}",
            s.chars().count()
        );
        assert_eq!(lines[0], "User: my vpn drops every ten minutes");
        assert!(lines[1].ends_with("earlier lines left out)"), "{s}");
        assert_eq!(*lines.last().unwrap(), "User: still broken 39");
        let huge = vec![format!("User: {}", "y".repeat(5000))];
        assert!(summarise(&huge).chars().count() <= TRANSCRIPT_CHARS);
    }
}
