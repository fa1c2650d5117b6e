//! Fuzz target: whatever a ServiceNow or Jira server answers, reading a page never panics and
//! paging never moves back. The input is an `X-Total-Count` header line, then a body parsed as
//! the HTTP layer does (`serde_json::from_slice`); the body is read as a Table API page and as
//! a Jira search page at both kinds of position, and every row's dates and rich text go
//! through the same conversions the connectors use.
#![no_main]

#[allow(dead_code)]
mod connectors;

use connectors::pages::{error_words, field_text, issue_id, jira_page, table_page, Position};
use connectors::text::{adf_to_text, parse_jira_time, parse_time, sn_to_rfc3339, wiki_to_text};
use serde_json::Value;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (header, body) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&data[..0], data),
    };
    let header = String::from_utf8_lossy(header);
    let Ok(body) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let _ = error_words(&body);
    if let Some(page) = table_page(&body, Some(&header)) {
        for row in &page.rows {
            let _ = field_text(&row["sys_id"]);
            if let Some(at) = sn_to_rfc3339(&field_text(&row["sys_updated_on"])) {
                // What the keyset hands out must read back as a time.
                assert!(parse_time(&at).is_some(), "{at}");
            }
            for field in ["short_description", "description", "close_notes", "comments"] {
                let _ = field_text(&row[field]);
            }
        }
    }
    for position in [
        Position::Token(None),
        Position::Token(Some("t".into())),
        Position::StartAt(0),
        Position::StartAt(950),
    ] {
        let Some(found) = jira_page(&body, &position) else {
            continue;
        };
        match (&position, &found.next) {
            (Position::StartAt(asked), Position::StartAt(next)) => {
                assert!(next >= asked, "paging moved back from {asked} to {next}");
                assert!(found.last || !found.issues.is_empty());
            }
            (Position::Token(_), Position::Token(next)) => {
                assert!(found.last || next.is_some(), "no way on but not last");
            }
            _ => panic!("the next position changed kind"),
        }
        for issue in &found.issues {
            let _ = issue_id(issue);
            let fields = &issue["fields"];
            let _ = fields["updated"].as_str().and_then(parse_jira_time);
            match &fields["description"] {
                Value::String(markup) => {
                    let _ = wiki_to_text(markup);
                }
                adf @ Value::Object(_) => {
                    let _ = adf_to_text(adf);
                }
                _ => {}
            }
            if let Some(comments) = fields["comment"]["comments"].as_array() {
                for comment in comments {
                    match &comment["body"] {
                        Value::String(markup) => {
                            let _ = wiki_to_text(markup);
                        }
                        adf => {
                            let _ = adf_to_text(adf);
                        }
                    }
                }
            }
        }
    }
});
