//! `/sim/jira/issues`: add or change issues (POST) and delete one (DELETE), so tests can
//! make the source change under a sync.

use super::*;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::server::AppState;
use crate::tz::{now_utc, parse_sn};

/// `POST /sim/jira/issues`: touch or create issues. Body: one object or an array of
/// `{"key"?, "project"?, "summary"?, "description"?, "status"?, "updated"?}`; `updated` is a raw
/// UTC `YYYY-MM-DD HH:MM:SS` (default now). Returns the keys written.
pub async fn upsert_issues(
    State(state): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> Response {
    let items = match body {
        Value::Array(items) => items,
        other => vec![other],
    };
    let Ok(mut data) = state.jira.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut keys = Vec::new();
    for item in items {
        let text = |f: &str| item.get(f).and_then(Value::as_str).map(str::to_owned);
        let updated = match text("updated") {
            Some(raw) => match parse_sn(&raw) {
                Some(at) => at,
                None => {
                    return crate::control::error(
                        StatusCode::BAD_REQUEST,
                        format!("bad updated {raw:?}"),
                    )
                }
            },
            None => now_utc(),
        };
        let position = text("key").and_then(|key| {
            data.issues
                .iter()
                .position(|i| i.key().eq_ignore_ascii_case(&key))
        });
        let index = match position {
            Some(index) => index,
            None => {
                let project = if text("project").as_deref() == Some("OPS") {
                    "OPS"
                } else {
                    "SUP"
                };
                let number = data
                    .issues
                    .iter()
                    .filter(|i| i.project == project)
                    .map(|i| i.number)
                    .max()
                    .unwrap_or(0)
                    + 1;
                let id = data.issues.iter().map(|i| i.id).max().unwrap_or(10_000) + 1;
                data.issues.push(Issue {
                    id,
                    project,
                    number,
                    summary: String::new(),
                    description: String::new(),
                    status: "To Do",
                    priority: "Medium",
                    created: updated,
                    updated,
                    millis: 0,
                    resolved: None,
                    resolution: None,
                    assignee: None,
                    reporter: None,
                    labels: Vec::new(),
                    comments: Vec::new(),
                });
                data.issues.len() - 1
            }
        };
        let issue = &mut data.issues[index];
        if let Some(summary) = text("summary") {
            issue.summary = summary;
        }
        if let Some(description) = text("description") {
            issue.description = description;
        }
        if let Some(status) = text("status") {
            issue.status = match status.as_str() {
                "Done" => "Done",
                "In Progress" => "In Progress",
                _ => "To Do",
            };
        }
        issue.updated = updated;
        issue.millis = 0;
        keys.push(issue.key());
    }
    Json(json!({"result": keys})).into_response()
}

/// `DELETE /sim/jira/issues/{key}`: the issue is gone, as if deleted in Jira (no trace is
/// left for a search to find: Jira keeps no deletion log either).
pub async fn delete_issue(State(state): State<Arc<AppState>>, Path(key): Path<String>) -> Response {
    let Ok(mut data) = state.jira.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match data
        .issues
        .iter()
        .position(|i| i.key().eq_ignore_ascii_case(&key))
    {
        Some(index) => {
            data.issues.remove(index);
            StatusCode::NO_CONTENT.into_response()
        }
        None => crate::control::error(StatusCode::NOT_FOUND, format!("no issue {key}")),
    }
}
