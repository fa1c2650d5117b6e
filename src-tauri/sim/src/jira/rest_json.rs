//! Issues as REST JSON: the field list, rendered issues and users (v2 wiki text, v3 ADF),
//! serverInfo, myself and single-issue reads.

use super::*;
use std::sync::Arc;

use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};
use time::PrimitiveDateTime;

use crate::auth::JIRA_EMAIL;
use crate::errors;
use crate::server::AppState;
use crate::tz::{format_jira, now_utc, Zone};

/// Field ids, names and JQL clause names, as `/rest/api/2/field` lists them.
pub(super) const FIELDS: &[(&str, &str, &str)] = &[
    ("summary", "Summary", "string"),
    ("description", "Description", "string"),
    ("status", "Status", "status"),
    ("priority", "Priority", "priority"),
    ("issuetype", "Issue Type", "issuetype"),
    ("project", "Project", "project"),
    ("created", "Created", "datetime"),
    ("updated", "Updated", "datetime"),
    ("resolutiondate", "Resolved", "datetime"),
    ("resolution", "Resolution", "resolution"),
    ("assignee", "Assignee", "user"),
    ("reporter", "Reporter", "user"),
    ("labels", "Labels", "array"),
    ("comment", "Comment", "comments-page"),
];

pub(super) fn field_list() -> Value {
    let fields: Vec<Value> = FIELDS
        .iter()
        .map(|(id, name, kind)| {
            let clause = match *id {
                "resolutiondate" => "resolved",
                "issuetype" => "type",
                other => other,
            };
            json!({
                "id": id, "key": id, "name": name, "custom": false, "orderable": true, "navigable": true, "searchable": true,
                "clauseNames": [id, clause], "schema": {"type": kind, "system": id}
            })
        })
        .collect();
    Value::Array(fields)
}

pub(super) fn wanted(fields: &[String], name: &str) -> bool {
    let excluded = fields.iter().any(|f| f.strip_prefix('-') == Some(name));
    let included = fields
        .iter()
        .any(|f| f == name || f == "*all" || (f == "*navigable"));
    included && !excluded
}

pub(super) fn render(issue: &Issue, flavour: Flavour, fields: &[String], base: &str) -> Value {
    let root = flavour.api_root(base);
    let zone = Zone::named(ACCOUNT_ZONE);
    let mut out = json!({
        "expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
        "id": issue.id.to_string(),
        "self": format!("{root}/issue/{}", issue.id),
        "key": issue.key(),
    });
    let mut map = Map::new();
    let text = |body: &str| match flavour {
        Flavour::CloudV3 => adf(body),
        _ => json!(body),
    };
    let person = |p: &Option<Person>| match p {
        None => Value::Null,
        Some(p) => user_json(p, flavour, &root),
    };
    let date = |d: PrimitiveDateTime, ms: u16| json!(format_jira(d, ms, zone));
    for (id, _, _) in FIELDS {
        if !wanted(fields, id) {
            continue;
        }
        let value = match *id {
            "summary" => json!(issue.summary),
            "description" => text(&issue.description),
            "status" => {
                let (cat_id, cat_key, colour) = match issue.status {
                    "To Do" => (2, "new", "blue-gray"),
                    "In Progress" => (4, "indeterminate", "yellow"),
                    _ => (3, "done", "green"),
                };
                json!({"self": format!("{root}/status/{cat_id}"), "name": issue.status, "id": cat_id.to_string(),
                       "statusCategory": {"id": cat_id, "key": cat_key, "colorName": colour, "name": issue.status}})
            }
            "priority" => {
                json!({"self": format!("{root}/priority/{}", issue.priority), "name": issue.priority})
            }
            "issuetype" => {
                json!({"self": format!("{root}/issuetype/10004"), "id": "10004", "name": "Incident", "subtask": false})
            }
            "project" => {
                let (pid, name) = if issue.project == "OPS" {
                    ("10001", "Operations")
                } else {
                    ("10000", "Support")
                };
                json!({"self": format!("{root}/project/{pid}"), "id": pid, "key": issue.project, "name": name, "projectTypeKey": "service_desk"})
            }
            "created" => date(issue.created, issue.millis),
            "updated" => date(issue.updated, issue.millis),
            "resolutiondate" => issue.resolved.map(|d| date(d, 0)).unwrap_or(Value::Null),
            "resolution" => issue
                .resolution
                .map(|r| json!({"name": r}))
                .unwrap_or(Value::Null),
            "assignee" => person(&issue.assignee),
            "reporter" => person(&issue.reporter),
            "labels" => json!(issue.labels),
            "comment" => {
                let comments: Vec<Value> = issue
                    .comments
                    .iter()
                    .map(|c| {
                        json!({"self": format!("{root}/issue/{}/comment/{}", issue.id, c.id), "id": c.id.to_string(),
                               "author": user_json(&c.author, flavour, &root), "body": text(&c.body),
                               "created": date(c.created, 0), "updated": date(c.created, 0)})
                    })
                    .collect();
                json!({"comments": comments, "self": format!("{root}/issue/{}/comment", issue.id), "maxResults": comments.len(), "total": comments.len(), "startAt": 0})
            }
            _ => continue,
        };
        map.insert((*id).to_owned(), value);
    }
    if !map.is_empty() {
        out["fields"] = Value::Object(map);
    }
    out
}

pub(super) fn user_json(person: &Person, flavour: Flavour, root: &str) -> Value {
    match flavour {
        Flavour::DataCenter => json!({
            "self": format!("{root}/user?username={}", person.user_name), "name": person.user_name, "key": person.user_name,
            "emailAddress": person.email, "displayName": person.name, "active": true, "timeZone": ACCOUNT_ZONE
        }),
        _ => json!({
            "self": format!("{root}/user?accountId={}", person.account_id), "accountId": person.account_id,
            "emailAddress": person.email, "displayName": person.name, "active": true, "timeZone": ACCOUNT_ZONE, "accountType": "atlassian"
        }),
    }
}

/// Plain text to an Atlassian Document Format document: one paragraph per blank-line block.
pub fn adf(text: &str) -> Value {
    let paragraphs: Vec<Value> = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| json!({"type": "paragraph", "content": [{"type": "text", "text": p.trim()}]}))
        .collect();
    json!({"type": "doc", "version": 1, "content": paragraphs})
}

pub(super) fn server_info(flavour: Flavour, base: &str) -> Value {
    let now = format_jira(now_utc(), 0, Zone::named("UTC"));
    match flavour {
        Flavour::DataCenter => json!({
            "baseUrl": format!("{base}/dc"), "version": "9.12.15", "versionNumbers": [9, 12, 15], "deploymentType": "Server",
            "buildNumber": 9120015, "buildDate": "2024-10-01T00:00:00.000+0000", "serverTime": now,
            "scmInfo": "simulated", "serverTitle": "Jira (simulated Data Center)"
        }),
        _ => json!({
            "baseUrl": base, "version": "1001.0.0-SNAPSHOT", "versionNumbers": [1001, 0, 0], "deploymentType": "Cloud",
            "buildNumber": 100287, "buildDate": "2025-06-27T06:03:47.000+0000", "serverTime": now,
            "scmInfo": "simulated", "serverTitle": "Jira (simulated Cloud)", "defaultLocale": {"locale": "en_US"}
        }),
    }
}

pub(super) async fn cloud_server_info(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
) -> Response {
    match Flavour::cloud(&version) {
        Some(flavour) => Json(server_info(flavour, &state.base_url)).into_response(),
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

pub(super) async fn dc_server_info(State(state): State<Arc<AppState>>) -> Response {
    Json(server_info(Flavour::DataCenter, &state.base_url)).into_response()
}

pub(super) async fn cloud_fields(Path(version): Path<String>, headers: HeaderMap) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers)) {
        Some(Ok(())) => Json(field_list()).into_response(),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

pub(super) async fn dc_fields(headers: HeaderMap) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => Json(field_list()).into_response(),
        Err(response) => response,
    }
}

pub(super) fn myself(flavour: Flavour, base: &str) -> Value {
    let root = flavour.api_root(base);
    match flavour {
        Flavour::DataCenter => json!({
            "self": format!("{root}/user?username=demo"), "key": "JIRAUSER10000", "name": "demo", "emailAddress": JIRA_EMAIL,
            "displayName": "Demo User", "active": true, "timeZone": ACCOUNT_ZONE, "locale": "en_US"
        }),
        _ => json!({
            "self": format!("{root}/user?accountId={ACCOUNT_ID}"), "accountId": ACCOUNT_ID, "accountType": "atlassian",
            "emailAddress": JIRA_EMAIL, "displayName": "Demo User", "active": true, "timeZone": ACCOUNT_ZONE, "locale": "en_US"
        }),
    }
}

pub(super) async fn cloud_myself(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    headers: HeaderMap,
) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers).map(|()| f)) {
        Some(Ok(flavour)) => Json(myself(flavour, &state.base_url)).into_response(),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

pub(super) async fn dc_myself(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => Json(myself(Flavour::DataCenter, &state.base_url)).into_response(),
        Err(response) => response,
    }
}

pub(super) fn issue(state: &AppState, flavour: Flavour, key: &str, uri: &OriginalUri) -> Response {
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let found = data
        .issues
        .iter()
        .find(|i| i.key().eq_ignore_ascii_case(key) || i.id.to_string() == key);
    let Some(found) = found else {
        return errors::jira(
            StatusCode::NOT_FOUND,
            "Issue does not exist or you do not have permission to see it.",
        );
    };
    let fields: Vec<String> = form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .filter(|(k, _)| k == "fields")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let fields = if fields.is_empty() {
        vec!["*all".to_owned()]
    } else {
        fields
    };
    Json(render(found, flavour, &fields, &state.base_url)).into_response()
}

pub(super) async fn cloud_issue(
    State(state): State<Arc<AppState>>,
    Path((version, key)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    match Flavour::cloud(&version).map(|f| check(f, &headers).map(|()| f)) {
        Some(Ok(flavour)) => issue(&state, flavour, &key, &uri),
        Some(Err(response)) => response,
        None => errors::jira(StatusCode::NOT_FOUND, "Not found"),
    }
}

pub(super) async fn dc_issue(
    State(state): State<Arc<AppState>>,
    Path(key): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    match check(Flavour::DataCenter, &headers) {
        Ok(()) => issue(&state, Flavour::DataCenter, &key, &uri),
        Err(response) => response,
    }
}
