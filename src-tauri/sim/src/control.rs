//! The `/sim/` control API: change data, inject faults, expire tokens, steer the VA scenario.
//!
//! It answers loopback host names only, and only with the HTTP Basic credentials of an account
//! with the `admin` role (`admin / admin`): 401 with a `WWW-Authenticate` challenge without them,
//! 403 for other accounts (see `server`). It is documented in `docs/simulator.md`. Errors are
//! `{"error": "<message>"}` with status 400, 401, 403 or 404.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::faults::FaultSpec;
use crate::server::AppState;
use crate::{jira, va};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/sim", get(info))
        .route("/sim/records/{table}", post(upsert_records))
        .route("/sim/records/{table}/{sys_id}", delete(delete_record))
        .route(
            "/sim/faults",
            get(list_faults).post(add_faults).delete(clear_faults),
        )
        .route("/sim/faults/{id}", delete(remove_fault))
        .route("/sim/oauth", get(oauth_settings).put(set_oauth))
        .route("/sim/oauth/expire", post(expire_tokens))
        .route("/sim/jira/issues", post(jira::upsert_issues))
        .route("/sim/jira/issues/{key}", delete(jira::delete_issue))
        .route("/sim/va", get(va::get_config).put(va::put_config))
        .route(
            "/sim/va/deliveries",
            get(va::deliveries).delete(va::clear_deliveries),
        )
        .route("/sim/va/requests", get(va::requests))
        .route("/sim/va/conversations", get(va::conversations))
}

/// A control API error.
pub fn error(status: StatusCode, message: impl std::fmt::Display) -> Response {
    (status, Json(json!({"error": message.to_string()}))).into_response()
}

async fn info(State(state): State<Arc<AppState>>) -> Response {
    let tables = state.store.read().map(|s| s.counts()).unwrap_or_default();
    let jira_issues = state.jira.read().map(|j| j.len()).unwrap_or(0);
    let faults = state.faults.lock().map(|f| f.list().len()).unwrap_or(0);
    Json(json!({
        "base_url": state.base_url,
        "tables": tables,
        "jira_issues": jira_issues,
        "faults": faults,
        "credentials": crate::demo_credentials().into_iter().map(|(what, value)| json!({"what": what, "value": value})).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// `POST /sim/records/{table}`: one object, an array, or `{"result": [...]}`.
async fn upsert_records(
    State(state): State<Arc<AppState>>,
    Path(table): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut object) => match object.remove("result") {
            Some(Value::Array(items)) => items,
            Some(other) => vec![other],
            None => vec![Value::Object(object)],
        },
        _ => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected a JSON object or array of records",
            )
        }
    };
    let Ok(mut store) = state.store.write() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "store lock poisoned");
    };
    let mut stored = Vec::with_capacity(items.len());
    for item in &items {
        match store.upsert(&table, item, "admin") {
            Ok(record) => stored.push(crate::data::record_to_json(record)),
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    }
    Json(json!({"result": stored})).into_response()
}

/// `DELETE /sim/records/{table}/{sys_id}`: returns the `sys_audit_delete` entry.
async fn delete_record(
    State(state): State<Arc<AppState>>,
    Path((table, sys_id)): Path<(String, String)>,
) -> Response {
    let Ok(mut store) = state.store.write() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "store lock poisoned");
    };
    match store.delete(&table, &sys_id, "admin") {
        Ok(audit) => Json(json!({"result": crate::data::record_to_json(audit)})).into_response(),
        Err(e) => error(StatusCode::NOT_FOUND, e),
    }
}

async fn list_faults(State(state): State<Arc<AppState>>) -> Response {
    let rules = state.faults.lock().map(|f| f.list()).unwrap_or_default();
    Json(json!({"result": rules})).into_response()
}

/// `POST /sim/faults`: one rule or an array; all or nothing.
async fn add_faults(State(state): State<Arc<AppState>>, Json(body): Json<Value>) -> Response {
    let items = match body {
        Value::Array(items) => items,
        other => vec![other],
    };
    let mut specs = Vec::with_capacity(items.len());
    for item in items {
        match serde_json::from_value::<FaultSpec>(item) {
            Ok(spec) => specs.push(spec),
            Err(e) => return error(StatusCode::BAD_REQUEST, e),
        }
    }
    let Ok(mut faults) = state.faults.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "faults lock poisoned");
    };
    let mut added = Vec::new();
    for spec in specs {
        match faults.add(spec) {
            Ok(rule) => added.push(rule),
            Err(e) => {
                for rule in &added {
                    faults.remove(rule.id);
                }
                return error(StatusCode::BAD_REQUEST, e);
            }
        }
    }
    (StatusCode::CREATED, Json(json!({"result": added}))).into_response()
}

async fn clear_faults(State(state): State<Arc<AppState>>) -> StatusCode {
    if let Ok(mut faults) = state.faults.lock() {
        faults.clear();
    }
    StatusCode::NO_CONTENT
}

async fn remove_fault(State(state): State<Arc<AppState>>, Path(id): Path<u64>) -> Response {
    let removed = state
        .faults
        .lock()
        .map(|mut f| f.remove(id))
        .unwrap_or(false);
    if removed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        error(StatusCode::NOT_FOUND, format!("no fault {id}"))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OauthSettings {
    access_token_ttl: Option<u64>,
    refresh_token_ttl: Option<u64>,
    client_credentials: Option<bool>,
}

async fn oauth_settings(State(state): State<Arc<AppState>>) -> Response {
    let Ok(tokens) = state.tokens.lock() else {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "tokens lock poisoned");
    };
    Json(json!({"access_token_ttl": tokens.access_ttl.as_secs(), "refresh_token_ttl": tokens.refresh_ttl.as_secs(), "client_credentials": tokens.client_credentials})).into_response()
}

/// `PUT /sim/oauth`: lifetimes (seconds) of tokens issued from now on, and whether the client
/// credentials grant is enabled.
async fn set_oauth(
    State(state): State<Arc<AppState>>,
    Json(settings): Json<OauthSettings>,
) -> Response {
    if let Ok(mut tokens) = state.tokens.lock() {
        if let Some(ttl) = settings.access_token_ttl {
            tokens.access_ttl = std::time::Duration::from_secs(ttl);
        }
        if let Some(ttl) = settings.refresh_token_ttl {
            tokens.refresh_ttl = std::time::Duration::from_secs(ttl);
        }
        if let Some(enabled) = settings.client_credentials {
            tokens.client_credentials = enabled;
        }
    }
    oauth_settings(State(state)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expire {
    #[serde(default)]
    refresh_tokens: bool,
}

/// `POST /sim/oauth/expire`: every access token (and optionally refresh token) expires now, so
/// refresh handling can be tested without waiting half an hour.
async fn expire_tokens(
    State(state): State<Arc<AppState>>,
    body: Option<Json<Expire>>,
) -> StatusCode {
    let expire = body.map(|Json(e)| e).unwrap_or_default();
    if let Ok(mut tokens) = state.tokens.lock() {
        tokens.expire_access_tokens();
        if expire.refresh_tokens {
            tokens.expire_refresh_tokens();
        }
    }
    StatusCode::NO_CONTENT
}
