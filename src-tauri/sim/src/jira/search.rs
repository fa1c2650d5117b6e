//! JQL searches: Cloud's `search/jql` with `nextPageToken`, the removed `search` (410), and
//! Data Center's `search` with `startAt`/`total`.

use super::rest_json::render;
use super::*;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::{json, Value};

use crate::errors;
use crate::jql::{self, Jql, OrderField};
use crate::server::AppState;
use crate::tz::Zone;

/// Search parameters from a GET query string or a POST JSON body.
#[derive(Debug, Default)]
pub(super) struct SearchRequest {
    jql: String,
    max_results: Option<usize>,
    start_at: Option<usize>,
    next_page_token: Option<String>,
    fields: Option<Vec<String>>,
}

pub(super) fn search_request(
    method: &Method,
    uri: &OriginalUri,
    body: &Bytes,
) -> Result<SearchRequest, Response> {
    let mut request = SearchRequest::default();
    let bad = |message: &str| errors::jira(StatusCode::BAD_REQUEST, message);
    if method == Method::POST {
        let body: Value = serde_json::from_slice(body).map_err(|_| {
            bad("Invalid request payload. Refer to the REST API documentation and try again.")
        })?;
        request.jql = body["jql"].as_str().unwrap_or_default().to_owned();
        request.max_results = body["maxResults"].as_u64().map(|n| n as usize);
        request.start_at = body["startAt"].as_u64().map(|n| n as usize);
        request.next_page_token = body["nextPageToken"].as_str().map(str::to_owned);
        request.fields = match &body["fields"] {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
            ),
            Value::String(s) => Some(s.split(',').map(str::to_owned).collect()),
            _ => None,
        };
    } else {
        for (key, value) in
            form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes()).into_owned()
        {
            match key.as_str() {
                "jql" => request.jql = value,
                "maxResults" => {
                    request.max_results = Some(
                        value
                            .parse()
                            .map_err(|_| bad("maxResults must be a number"))?,
                    )
                }
                "startAt" => {
                    request.start_at =
                        Some(value.parse().map_err(|_| bad("startAt must be a number"))?)
                }
                "nextPageToken" => request.next_page_token = Some(value),
                // Clients send both `fields=a,b` and repeated `fields=a&fields=b`.
                "fields" => request
                    .fields
                    .get_or_insert_with(Vec::new)
                    .extend(value.split(',').map(str::to_owned)),
                _ => {}
            }
        }
    }
    if let Some(fields) = request.fields.as_mut() {
        fields.retain(|f| !f.trim().is_empty());
        for f in fields.iter_mut() {
            *f = f.trim().to_owned();
        }
    }
    Ok(request)
}

/// Issues matching a query, ordered.
pub(super) fn run(data: &JiraData, jql: &Jql) -> Vec<usize> {
    let mut hits: Vec<usize> = (0..data.issues.len())
        .filter(|&i| {
            jql.groups.is_empty()
                || jql
                    .groups
                    .iter()
                    .any(|g| g.iter().all(|c| data.issues[i].matches(c)))
        })
        .collect();
    let order = if jql.order.is_empty() {
        vec![(OrderField::Id, false)]
    } else {
        jql.order.clone()
    };
    hits.sort_by(|&a, &b| {
        let (a, b) = (&data.issues[a], &data.issues[b]);
        for (field, descending) in &order {
            let ord = match field {
                OrderField::Updated => a.updated_millis().cmp(&b.updated_millis()),
                OrderField::Created => a.created.cmp(&b.created),
                OrderField::Key => (a.project, a.number).cmp(&(b.project, b.number)),
                OrderField::Id => a.id.cmp(&b.id),
            };
            if ord != std::cmp::Ordering::Equal {
                return if *descending { ord.reverse() } else { ord };
            }
        }
        a.id.cmp(&b.id)
    });
    hits
}

/// Tokens encode the offset and a fingerprint of the query they belong to.
pub(super) fn page_token(offset: usize, jql: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(format!("{offset}:{:016x}", fingerprint(jql)))
}

pub(super) fn read_page_token(token: &str, jql: &str) -> Option<usize> {
    let text = String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token)
            .ok()?,
    )
    .ok()?;
    let (offset, print) = text.split_once(':')?;
    (print == format!("{:016x}", fingerprint(jql)))
        .then(|| offset.parse().ok())
        .flatten()
}

pub(super) fn fingerprint(text: &str) -> u64 {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(super) fn parse_jql(text: &str) -> Result<Jql, Response> {
    jql::parse(text, Zone::named(ACCOUNT_ZONE))
        .map_err(|e| errors::jira(StatusCode::BAD_REQUEST, &e.to_string()))
}

pub(super) async fn cloud_search(
    State(state): State<Arc<AppState>>,
    Path(version): Path<String>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(flavour) = Flavour::cloud(&version) else {
        return errors::jira(StatusCode::NOT_FOUND, "Not found");
    };
    if let Err(response) = check(flavour, &headers) {
        return response;
    }
    let request = match search_request(&method, &uri, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let jql = match parse_jql(&request.jql) {
        Ok(jql) => jql,
        Err(response) => return response,
    };
    if jql.groups.is_empty() {
        return errors::jira(StatusCode::BAD_REQUEST, "Unbounded JQL queries are not allowed here. Please add a search restriction to your query.");
    }
    let offset = match &request.next_page_token {
        None => 0,
        Some(token) => match read_page_token(token, &request.jql) {
            Some(offset) => offset,
            None => {
                return errors::jira(
                    StatusCode::BAD_REQUEST,
                    "The provided next page token is invalid or expired.",
                )
            }
        },
    };
    let fields = request.fields.unwrap_or_default();
    // Cloud returns at most 100 issues with fields (5000 with ids only).
    let cap = if fields.iter().all(|f| f == "id" || f == "key") {
        5000
    } else {
        100
    };
    let max = request.max_results.unwrap_or(50).clamp(1, cap);
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hits = run(&data, &jql);
    let page: Vec<Value> = hits
        .iter()
        .skip(offset)
        .take(max)
        .map(|&i| render(&data.issues[i], flavour, &fields, &state.base_url))
        .collect();
    let mut body = json!({"issues": page});
    if offset + max < hits.len() {
        body["nextPageToken"] = json!(page_token(offset + max, &request.jql));
        body["isLast"] = json!(false);
    } else {
        body["isLast"] = json!(true);
    }
    Json(body).into_response()
}

pub(super) async fn removed_search(Path(version): Path<String>) -> Response {
    if Flavour::cloud(&version).is_none() {
        return errors::jira(StatusCode::NOT_FOUND, "Not found");
    }
    errors::jira(
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

pub(super) async fn dc_search(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(response) = check(Flavour::DataCenter, &headers) {
        return response;
    }
    let request = match search_request(&method, &uri, &body) {
        Ok(request) => request,
        Err(response) => return response,
    };
    let jql = match parse_jql(&request.jql) {
        Ok(jql) => jql,
        Err(response) => return response,
    };
    let start = request.start_at.unwrap_or(0);
    let max = request.max_results.unwrap_or(50).min(1000);
    // Data Center returns navigable fields when none are named.
    let fields = request
        .fields
        .unwrap_or_else(|| vec!["*navigable".to_owned()]);
    let Ok(data) = state.jira.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hits = run(&data, &jql);
    let issues: Vec<Value> = hits
        .iter()
        .skip(start)
        .take(max)
        .map(|&i| {
            render(
                &data.issues[i],
                Flavour::DataCenter,
                &fields,
                &state.base_url,
            )
        })
        .collect();
    Json(json!({"expand": "schema,names", "startAt": start, "maxResults": max, "total": hits.len(), "issues": issues})).into_response()
}
