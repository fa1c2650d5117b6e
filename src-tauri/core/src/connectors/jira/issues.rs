//! An issue as an incident: names, ADF or wiki-markup text, comments, and the last comment of a
//! resolved issue as its resolution.

use serde_json::Value;

use super::Jira;
use crate::connectors::text::{adf_to_text, parse_jira_time, rfc3339, wiki_to_text};
use crate::connectors::SourceIncident;

impl Jira {
    pub(super) fn incident(
        &mut self,
        issue: &Value,
        id: &str,
        updated: time::OffsetDateTime,
        notes: &mut Vec<String>,
    ) -> SourceIncident {
        let f = &issue["fields"];
        let name = |v: &Value| -> String {
            v.get("name")
                .or_else(|| v.get("displayName"))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let person = |v: &Value| {
            v.get("displayName")
                .and_then(Value::as_str)
                .or_else(|| v.get("name").and_then(Value::as_str))
                .map(str::to_owned)
        };
        let date = |v: &Value| v.as_str().and_then(parse_jira_time).and_then(rfc3339);
        let key = issue["key"].as_str().unwrap_or_default().to_owned();
        let comment_page = &f["comment"];
        let comments_raw = comment_page["comments"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if comment_page["total"]
            .as_u64()
            .is_some_and(|total| total > comments_raw.len() as u64)
        {
            self.notes.once(
                notes,
                "Some Jira issues have more comments than a search returns; only the first ones \
                 were synced."
                    .to_owned(),
            );
        }
        let comments: Vec<(String, String)> = comments_raw
            .iter()
            .map(|c| {
                let author = person(&c["author"]).unwrap_or_else(|| "unknown".to_owned());
                let at = date(&c["created"]).unwrap_or_default();
                (
                    format!("Comment by {author} at {at}"),
                    rich_text(&c["body"]),
                )
            })
            .filter(|(_, body)| !body.trim().is_empty())
            .collect();
        let resolved_at = date(&f["resolutiondate"]);
        let close_code = Some(name(&f["resolution"])).filter(|r| !r.is_empty());
        // Jira has no resolution notes field: the last comment of a resolved issue is where the
        // fix is usually described.
        let resolution = if resolved_at.is_some() || close_code.is_some() {
            comments
                .last()
                .map(|(_, body)| body.clone())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let labels: Vec<&str> = f["labels"]
            .as_array()
            .map(|l| l.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let project = &f["project"];
        SourceIncident {
            external_id: id.to_owned(),
            short_description: f["summary"].as_str().unwrap_or_default().to_owned(),
            description: rich_text(&f["description"]),
            resolution,
            close_code,
            state: name(&f["status"]),
            priority: name(&f["priority"]),
            category: Some(name(project))
                .filter(|n| !n.is_empty())
                .or_else(|| project["key"].as_str().map(str::to_owned))
                .unwrap_or_default(),
            subcategory: labels.join(", "),
            assigned_to: person(&f["assignee"]),
            resolved_by: None,
            caller: person(&f["reporter"]),
            opened_at: date(&f["created"]),
            updated_at: rfc3339(updated).unwrap_or_default(),
            resolved_at,
            comments: comments
                .into_iter()
                .map(|(head, body)| format!("{head}: {body}"))
                .collect(),
            link: format!("{}/browse/{key}", self.base.as_str().trim_end_matches('/')),
            number: key,
        }
    }
}

/// Text of a description or comment body: ADF (Cloud v3) or wiki markup (v2, Data Center).
fn rich_text(value: &Value) -> String {
    match value {
        Value::String(markup) => wiki_to_text(markup),
        Value::Object(_) => adf_to_text(value),
        _ => String::new(),
    }
}
