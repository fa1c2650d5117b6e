//! Dates and rich text as the ITSM APIs send them, turned into what the knowledge base stores:
//! RFC 3339 UTC times and plain text (from Atlassian Document Format or Jira wiki markup).

use serde_json::Value;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// ServiceNow's raw date-time format, always UTC: `2016-01-19 04:52:04`.
const SN_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// A ServiceNow raw (UTC) date-time as RFC 3339, e.g. `2016-01-19T04:52:04Z`.
pub(crate) fn sn_to_rfc3339(raw: &str) -> Option<String> {
    let at = PrimitiveDateTime::parse(raw.trim(), SN_FORMAT).ok()?;
    rfc3339(at.assume_utc())
}

/// Any RFC 3339 time (or a ServiceNow raw one, or a bare `YYYY-MM-DD` meaning midnight UTC) in
/// UTC.
pub(crate) fn parse_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    if let Ok(at) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(at.to_offset(UtcOffset::UTC));
    }
    if let Ok(at) = PrimitiveDateTime::parse(text, SN_FORMAT) {
        return Some(at.assume_utc());
    }
    let date = time::Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc())
}

/// A time as a ServiceNow raw value for encoded queries (UTC, whole seconds).
pub(crate) fn to_sn(at: OffsetDateTime) -> String {
    at.to_offset(UtcOffset::UTC)
        .format(SN_FORMAT)
        .unwrap_or_default()
}

/// A time as RFC 3339 UTC (`Z`), with fractional seconds only when there are some.
pub(crate) fn rfc3339(at: OffsetDateTime) -> Option<String> {
    at.to_offset(UtcOffset::UTC).format(&Rfc3339).ok()
}

/// A Jira date-time (`2025-06-30T14:00:00.123-0400`, or RFC 3339) in UTC.
pub(crate) fn parse_jira_time(text: &str) -> Option<OffsetDateTime> {
    let text = text.trim();
    let with_millis = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond][offset_hour sign:mandatory][offset_minute]"
    );
    let without = format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory][offset_minute]"
    );
    OffsetDateTime::parse(text, with_millis)
        .or_else(|_| OffsetDateTime::parse(text, without))
        .or_else(|_| OffsetDateTime::parse(text, &Rfc3339))
        .ok()
        .map(|at| at.to_offset(UtcOffset::UTC))
}

/// Milliseconds since the epoch, the only JQL date form free of the account's time zone.
pub(crate) fn epoch_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Plain text of an Atlassian Document Format node: blocks on their own lines, list items
/// bulleted, table cells separated by `|`, mentions and links kept as their text.
pub(crate) fn adf_to_text(node: &Value) -> String {
    match node {
        Value::String(text) => return text.clone(),
        Value::Null => return String::new(),
        _ => {}
    }
    let mut out = String::new();
    write_adf(node, &mut out, 0);
    tidy(&out)
}

fn write_adf(node: &Value, out: &mut String, depth: usize) {
    let kind = node.get("type").and_then(Value::as_str).unwrap_or_default();
    let attr = |name: &str| {
        node.get("attrs")
            .and_then(|a| a.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let children = || {
        node.get("content")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
    };
    match kind {
        "text" => out.push_str(node.get("text").and_then(Value::as_str).unwrap_or_default()),
        "hardBreak" => out.push('\n'),
        "mention" | "status" => out.push_str(attr("text")),
        "emoji" => {
            let text = attr("text");
            out.push_str(if text.is_empty() {
                attr("shortName")
            } else {
                text
            });
        }
        "inlineCard" | "blockCard" | "embedCard" => out.push_str(attr("url")),
        "date" => out.push_str(attr("timestamp")),
        "rule" => out.push_str("\n---\n"),
        "bulletList" | "orderedList" => {
            for (i, item) in children().iter().enumerate() {
                // Render the item on its own, then bullet its first line and indent the rest
                // (nested lists, extra paragraphs) under it.
                let mut body = String::new();
                for child in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    write_adf(child, &mut body, depth + 1);
                }
                let bullet = if kind == "orderedList" {
                    format!("{}. ", i + 1)
                } else {
                    "- ".to_owned()
                };
                let indent = "  ".repeat(depth);
                ensure_line(out);
                for (n, line) in tidy(&body).lines().enumerate() {
                    out.push_str(&indent);
                    out.push_str(if n == 0 { &bullet } else { "  " });
                    out.push_str(line);
                    out.push('\n');
                }
            }
            ensure_line(out);
        }
        "tableRow" => {
            ensure_line(out);
            let cells: Vec<String> = children()
                .iter()
                .map(|cell| {
                    let mut text = String::new();
                    write_adf(cell, &mut text, depth);
                    text.split_whitespace().collect::<Vec<_>>().join(" ")
                })
                .collect();
            out.push_str(&cells.join(" | "));
            out.push('\n');
        }
        "paragraph" | "heading" | "blockquote" | "codeBlock" | "panel" | "expand"
        | "nestedExpand" | "decisionItem" | "taskItem" => {
            ensure_line(out);
            if kind == "expand" || kind == "nestedExpand" {
                let title = attr("title");
                if !title.is_empty() {
                    out.push_str(title);
                    out.push('\n');
                }
            }
            for child in children() {
                write_adf(child, out, depth);
            }
            out.push('\n');
        }
        // Attachments and images carry no text worth indexing.
        "media" | "mediaSingle" | "mediaGroup" | "mediaInline" => {}
        _ => {
            for child in children() {
                write_adf(child, out, depth);
            }
        }
    }
}

fn ensure_line(out: &mut String) {
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
}

/// Trims lines and collapses runs of blank lines.
fn tidy(text: &str) -> String {
    let mut out = String::new();
    let mut blank = false;
    for line in text.lines().map(str::trim_end) {
        if line.trim().is_empty() {
            blank = !out.is_empty();
            continue;
        }
        if blank {
            out.push('\n');
            blank = false;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

/// Readable text from Jira wiki markup (Data Center and API v2): macros such as `{code}` and
/// `{color:red}` dropped, `h1.` prefixes removed, `[label|url]` links written as `label (url)`.
pub(crate) fn wiki_to_text(markup: &str) -> String {
    let mut out = String::with_capacity(markup.len());
    for line in markup.lines() {
        let mut line = line.trim_end();
        for prefix in ["h1. ", "h2. ", "h3. ", "h4. ", "h5. ", "h6. ", "bq. "] {
            if let Some(rest) = line.strip_prefix(prefix) {
                line = rest;
            }
        }
        out.push_str(&links(&macros(line)));
        out.push('\n');
    }
    tidy(&out)
}

/// Removes `{name}` and `{name:params}` macro tags, keeping their content.
fn macros(line: &str) -> String {
    const NAMES: &[&str] = &["code", "noformat", "quote", "panel", "color", "anchor"];
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        let tag = after.find('}').map(|end| &after[..end]);
        match tag {
            Some(tag) if NAMES.contains(&tag.split(':').next().unwrap_or_default()) => {
                rest = &after[tag.len() + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// `[label|url]` → `label (url)`, `[url]` → `url`.
fn links(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        match after.find(']') {
            Some(end) => {
                let inner = &after[..end];
                match inner.split_once('|') {
                    Some((label, url)) => out.push_str(&format!("{label} ({url})")),
                    None => out.push_str(inner),
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn servicenow_raw_dates_are_utc() {
        assert_eq!(
            sn_to_rfc3339("2016-01-19 04:52:04").as_deref(),
            Some("2016-01-19T04:52:04Z")
        );
        assert_eq!(sn_to_rfc3339("19/01/2016 04:52"), None);
        let at = parse_time("2016-01-19T06:52:04+02:00").unwrap();
        assert_eq!(to_sn(at), "2016-01-19 04:52:04");
        assert_eq!(
            to_sn(parse_time("2016-01-19").unwrap()),
            "2016-01-19 00:00:00"
        );
    }

    #[test]
    fn jira_dates_keep_milliseconds() {
        let at = parse_jira_time("2025-06-30T14:00:00.123-0400").unwrap();
        assert_eq!(rfc3339(at).as_deref(), Some("2025-06-30T18:00:00.123Z"));
        assert_eq!(epoch_millis(at), 1_751_306_400_123);
        assert!(parse_jira_time("2025-06-30T14:00:00+0000").is_some());
        assert!(parse_jira_time("yesterday").is_none());
    }

    #[test]
    fn adf_becomes_plain_text() {
        let doc = json!({"type": "doc", "version": 1, "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "VPN down"}]},
            {"type": "paragraph", "content": [
                {"type": "text", "text": "Ask "},
                {"type": "mention", "attrs": {"id": "1", "text": "@Beth Anglin"}},
                {"type": "text", "text": " to restart", "marks": [{"type": "strong"}]},
                {"type": "hardBreak"},
                {"type": "text", "text": "the gateway."}
            ]},
            {"type": "bulletList", "content": [
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "one"}]}]},
                {"type": "listItem", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "two"}]}]}
            ]},
            {"type": "table", "content": [{"type": "tableRow", "content": [
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}]},
                {"type": "tableCell", "content": [{"type": "paragraph", "content": [{"type": "text", "text": "b"}]}]}
            ]}]},
            {"type": "mediaSingle", "content": [{"type": "media", "attrs": {"id": "x"}}]},
            {"type": "codeBlock", "content": [{"type": "text", "text": "ipconfig /flushdns"}]}
        ]});
        assert_eq!(
            adf_to_text(&doc),
            "VPN down\nAsk @Beth Anglin to restart\nthe gateway.\n- one\n- two\na | b\nipconfig /flushdns"
        );
        assert_eq!(adf_to_text(&json!("already text")), "already text");
        assert_eq!(adf_to_text(&Value::Null), "");
    }

    #[test]
    fn wiki_markup_becomes_readable() {
        let markup = "h2. Fix\n{code:bash}ipconfig /flushdns{code}\nSee [the KB|https://kb/1] and {color:red}this{color}.";
        assert_eq!(
            wiki_to_text(markup),
            "Fix\nipconfig /flushdns\nSee the KB (https://kb/1) and this."
        );
        assert_eq!(wiki_to_text("a {b} c"), "a {b} c");
    }
}
