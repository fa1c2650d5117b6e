//! What a page response says, read from its parsed JSON alone: a Table API page's rows and
//! count, a Jira search page's issues and where the next one starts, ids and field text, and
//! the server's own words in an error body.
//!
//! Pure functions over `serde_json` (and `text` for dates and rich text), so the fuzz target
//! `page_parsers` compiles them in directly and tries them with whatever a server might send.

use serde_json::Value;

/// One Table API page: `result` rows and the `X-Total-Count` header.
#[derive(Debug)]
pub(crate) struct TablePage {
    pub rows: Vec<Value>,
    /// Rows the query matches before ACLs, paging ignored.
    pub total: Option<u64>,
}

/// A Table API page, or `None` when the body has no `result` list (a login page, a proxy).
pub(crate) fn table_page(body: &Value, total_header: Option<&str>) -> Option<TablePage> {
    let rows = body.get("result")?.as_array()?.clone();
    Some(TablePage {
        rows,
        total: total_header.and_then(|v| v.trim().parse::<u64>().ok()),
    })
}

/// Where a Jira search page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Position {
    /// Cloud: `nextPageToken` (none for the first page).
    Token(Option<String>),
    /// Data Center: `startAt`.
    StartAt(usize),
}

/// One Jira search page.
#[derive(Debug)]
pub(crate) struct Found {
    pub issues: Vec<Value>,
    pub last: bool,
    pub total: Option<u64>,
    pub next: Position,
}

/// A search page asked for at `position`, or `None` when the body has no `issues` list. A
/// Cloud page without a next token is the last, whatever `isLast` says (there is no way on);
/// a Data Center page is the last when empty or when it reaches `total`.
pub(crate) fn jira_page(body: &Value, position: &Position) -> Option<Found> {
    let issues = body.get("issues")?.as_array()?.clone();
    Some(match position {
        Position::Token(_) => {
            let token = body["nextPageToken"]
                .as_str()
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            let last = token.is_none() || body["isLast"].as_bool().unwrap_or(false);
            Found {
                issues,
                last,
                total: None,
                next: Position::Token(token),
            }
        }
        Position::StartAt(asked) => {
            let total = body["total"].as_u64();
            // The server's own `startAt` wins (it may clamp), but never moves paging back.
            let start = body["startAt"]
                .as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .unwrap_or(*asked)
                .max(*asked);
            let end = start.saturating_add(issues.len());
            let last = issues.is_empty() || total.is_none_or(|t| end as u64 >= t);
            Found {
                issues,
                last,
                total,
                next: Position::StartAt(end),
            }
        }
    })
}

/// An issue's id as a string (Jira sends a string; tolerate a number).
pub(crate) fn issue_id(issue: &Value) -> Option<String> {
    match issue.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A field's value: a string, or the `value` of a reference object (when an instance ignores
/// `sysparm_exclude_reference_link`), or a number or boolean as text.
pub(crate) fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Object(map) => match map.get("value").or_else(|| map.get("display_value")) {
            // One level only: a reference's value is never itself a reference, and a hostile
            // body nesting them must not recurse deeply.
            Some(Value::Object(_)) | None => String::new(),
            Some(inner) => field_text(inner),
        },
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// The server's own words in an error body: ServiceNow `{"error":{"message","detail"}}`, Jira
/// `{"errorMessages":[…],"errors":{…}}`, OAuth `{"error","error_description"}`.
pub(crate) fn error_words(body: &Value) -> Vec<String> {
    let mut words: Vec<String> = Vec::new();
    if let Some(error) = body.get("error") {
        if let Some(message) = error.get("message").and_then(Value::as_str) {
            words.push(message.to_owned());
        }
        if let Some(detail) = error.get("detail").and_then(Value::as_str) {
            words.push(detail.to_owned());
        }
        if let Some(code) = error.as_str() {
            words.push(code.to_owned());
        }
    }
    if let Some(description) = body.get("error_description").and_then(Value::as_str) {
        words.push(description.to_owned());
    }
    if let Some(messages) = body.get("errorMessages").and_then(Value::as_array) {
        words.extend(messages.iter().filter_map(Value::as_str).map(str::to_owned));
    }
    if let Some(errors) = body.get("errors").and_then(Value::as_object) {
        words.extend(errors.iter().map(|(k, v)| {
            let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            format!("{k}: {v}")
        }));
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_cloud_page_without_a_token_is_the_last_whatever_is_last_says() {
        let page = jira_page(
            &json!({"issues": [], "isLast": false}),
            &Position::Token(None),
        );
        assert!(page.unwrap().last);
        let page = jira_page(
            &json!({"issues": [{"id": "1"}], "nextPageToken": "t2"}),
            &Position::Token(None),
        )
        .unwrap();
        assert!(!page.last);
        assert_eq!(page.next, Position::Token(Some("t2".into())));
    }

    #[test]
    fn a_data_center_start_never_moves_paging_back() {
        let body = json!({"issues": [{"id": "1"}], "startAt": 0, "total": 500});
        let page = jira_page(&body, &Position::StartAt(100)).unwrap();
        assert_eq!(page.next, Position::StartAt(101));
        assert!(!page.last);
    }

    #[test]
    fn bodies_without_their_list_are_not_pages() {
        assert!(table_page(&json!({"results": []}), None).is_none());
        assert!(jira_page(&json!("<html>"), &Position::StartAt(0)).is_none());
        let page = table_page(&json!({"result": [{}]}), Some(" 12 ")).unwrap();
        assert_eq!((page.rows.len(), page.total), (1, Some(12)));
    }

    #[test]
    fn nested_references_yield_no_text() {
        assert_eq!(field_text(&json!({"value": "abc", "link": "x"})), "abc");
        assert_eq!(field_text(&json!({"value": {"value": "deeper"}})), "");
        assert_eq!(field_text(&json!(3)), "3");
    }
}
