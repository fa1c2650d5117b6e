//! The ServiceNow Table API: `/api/now/[v1/|v2/]table/{table}[/{sys_id}]`.
//!
//! Reads honour every `sysparm_*` option a sync client uses, with `X-Total-Count` and `Link`
//! headers; reference fields, display values and dates are shaped like the real API's. Writes
//! (POST/PUT/PATCH/DELETE) exist so clients such as pysnc can be exercised end to end.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::{json, Map, Value};

use crate::auth::Account;
use crate::data::Record;
use crate::errors;
use crate::faults::ShortPage;
use crate::oauth::authenticate;
use crate::server::AppState;
use crate::store::{choice_label, display_field, is_date_field, reference_target, RowView, Store};
use crate::tz::{format_sn, parse_sn, Zone};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/now/table/{table}", get(list).post(insert))
        .route(
            "/api/now/{version}/table/{table}",
            get(list_versioned).post(insert_versioned),
        )
        .route(
            "/api/now/table/{table}/{sys_id}",
            get(one).put(update).patch(update).delete(remove),
        )
        .route(
            "/api/now/{version}/table/{table}/{sys_id}",
            get(one_versioned)
                .put(update_versioned)
                .patch(update_versioned)
                .delete(remove_versioned),
        )
}

/// `sysparm_display_value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Display {
    Raw,
    Label,
    Both,
}

/// How records are rendered for one request.
struct Render<'a> {
    display: Display,
    exclude_link: bool,
    fields: Option<Vec<String>>,
    zone: Zone,
    base_url: &'a str,
}

type Params = HashMap<String, String>;

fn params(uri: &OriginalUri) -> Params {
    uri.query()
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default()
}

fn flag(params: &Params, name: &str) -> bool {
    params
        .get(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

impl<'a> Render<'a> {
    fn new(params: &Params, account: &Account, base_url: &'a str) -> Render<'a> {
        let display = match params
            .get("sysparm_display_value")
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            Some("true") => Display::Label,
            Some("all") => Display::Both,
            _ => Display::Raw,
        };
        let fields = params
            .get("sysparm_fields")
            .map(|f| {
                f.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
            })
            .filter(|f| !f.is_empty());
        Render {
            display,
            exclude_link: flag(params, "sysparm_exclude_reference_link"),
            fields,
            zone: account.zone(),
            base_url,
        }
    }

    fn record(&self, store: &Store, table: &str, row: &Record) -> Value {
        let view = RowView { store, table, row };
        let mut out = Map::new();
        let columns: Vec<String> = match &self.fields {
            Some(fields) => fields
                .iter()
                .filter(|f| store.has_field(table, f))
                .cloned()
                .collect(),
            None => store
                .table(table)
                .map(|t| t.columns.iter().cloned().collect())
                .unwrap_or_default(),
        };
        for field in columns {
            let raw = crate::query::Fields::value(&view, &field)
                .map(|v| v.into_owned())
                .unwrap_or_default();
            let value = self.value(store, table, &field, &raw);
            out.insert(field, value);
        }
        Value::Object(out)
    }

    fn value(&self, store: &Store, table: &str, field: &str, raw: &str) -> Value {
        // Dot-walked fields render with the metadata of the table they end in.
        let (owner, last) = owning_table(table, field);
        if let Some(target) = reference_target(owner, last) {
            if raw.is_empty() {
                return match self.display {
                    Display::Both => json!({"display_value": "", "value": ""}),
                    _ => json!(""),
                };
            }
            let link = format!("{}/api/now/table/{target}/{raw}", self.base_url);
            let display = store
                .get(target, raw)
                .and_then(|r| r.get(display_field(target)).cloned())
                .unwrap_or_default();
            return match (self.display, self.exclude_link) {
                (Display::Raw, true) => json!(raw),
                (Display::Raw, false) => json!({"link": link, "value": raw}),
                (Display::Label, true) => json!(display),
                (Display::Label, false) => json!({"display_value": display, "link": link}),
                (Display::Both, true) => json!({"display_value": display, "value": raw}),
                (Display::Both, false) => {
                    json!({"display_value": display, "link": link, "value": raw})
                }
            };
        }
        if self.display == Display::Raw {
            return json!(raw);
        }
        let display = if is_date_field(last) && !raw.is_empty() {
            parse_sn(raw)
                .map(|utc| format_sn(self.zone.to_local(utc)))
                .unwrap_or_else(|| raw.to_owned())
        } else {
            choice_label(owner, last, raw)
                .map(str::to_owned)
                .unwrap_or_else(|| raw.to_owned())
        };
        match self.display {
            Display::Both => json!({"display_value": display, "value": raw}),
            _ => json!(display),
        }
    }
}

/// The table a (dot-walked) field belongs to, and its last segment.
fn owning_table<'f>(table: &str, field: &'f str) -> (&'static str, &'f str) {
    let mut owner: &'static str = crate::store::BUILTIN_TABLES
        .iter()
        .find(|t| **t == table)
        .copied()
        .unwrap_or("");
    let mut rest = field;
    while let Some((head, tail)) = rest.split_once('.') {
        match reference_target(owner, head) {
            Some(target) => owner = target,
            None => break,
        }
        rest = tail;
    }
    (owner, rest)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Version {
    Default,
    V1,
    V2,
}

fn version(text: &str) -> Option<Version> {
    match text {
        "v1" => Some(Version::V1),
        "v2" => Some(Version::V2),
        _ => None,
    }
}

fn not_found_path() -> Response {
    errors::servicenow(
        StatusCode::BAD_REQUEST,
        "Requested URI does not represent any resource",
        None,
    )
}

/// Checks Accept, credentials, table existence and read ACL, in the order the instance does.
fn admit(state: &AppState, headers: &HeaderMap, table: &str) -> Result<&'static Account, Response> {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("*/*");
    if !(accept.contains("json") || accept.contains("*/*")) {
        return Err(errors::servicenow(
            StatusCode::NOT_ACCEPTABLE,
            "Not Acceptable",
            Some("The simulator only produces application/json"),
        ));
    }
    let account = authenticate(state, headers)?;
    let exists = state
        .store
        .read()
        .map(|s| s.table(table).is_some())
        .unwrap_or(false);
    if !exists {
        return Err(errors::servicenow(
            StatusCode::BAD_REQUEST,
            &format!("Invalid table {table}"),
            None,
        ));
    }
    if !account.can_read(table) {
        return Err(errors::servicenow_forbidden(table));
    }
    Ok(account)
}

async fn list_versioned(
    state: State<Arc<AppState>>,
    Path((v, table)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    short: Option<Extension<ShortPage>>,
) -> Response {
    match version(&v) {
        Some(v) => list_in(v, state, table, uri, headers, short),
        None => not_found_path(),
    }
}

async fn list(
    state: State<Arc<AppState>>,
    Path(table): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    short: Option<Extension<ShortPage>>,
) -> Response {
    list_in(Version::Default, state, table, uri, headers, short)
}

fn list_in(
    version: Version,
    State(state): State<Arc<AppState>>,
    table: String,
    uri: OriginalUri,
    headers: HeaderMap,
    short: Option<Extension<ShortPage>>,
) -> Response {
    let account = match admit(&state, &headers, &table) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let params = params(&uri);
    let number = |name: &str, default: usize| {
        params
            .get(name)
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(default)
    };
    let limit = number("sysparm_limit", 10_000);
    let offset = number("sysparm_offset", 0);
    let encoded = params.get("sysparm_query").cloned().unwrap_or_default();
    let render = Render::new(&params, account, &state.base_url);
    let Ok(store) = state.store.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let rows = store.select(&table, &encoded, account.zone());
    let total = rows.len();
    let end = offset.saturating_add(limit).min(total);
    let page = if offset < total {
        &rows[offset..end]
    } else {
        &[][..]
    };
    // An injected short page withholds the tail of the page after the limit was applied, as
    // row-level ACLs do on a real instance; X-Total-Count still counts the hidden rows.
    let visible = match short {
        Some(Extension(ShortPage { hide })) => {
            let hide = hide.unwrap_or(page.len().div_ceil(2)).min(page.len());
            &page[..page.len() - hide]
        }
        None => page,
    };
    let result: Vec<Value> = visible
        .iter()
        .map(|row| render.record(&store, &table, row))
        .collect();
    drop(store);
    if result.is_empty() && version == Version::V1 {
        return errors::servicenow(
            StatusCode::NOT_FOUND,
            "No Record found",
            Some("Records matching query not found. Check query parameter or offset parameter"),
        );
    }
    let mut response = Json(json!({ "result": result })).into_response();
    let out = response.headers_mut();
    if !flag(&params, "sysparm_no_count") {
        errors::put(out, "X-Total-Count", &total.to_string());
    }
    if !flag(&params, "sysparm_suppress_pagination_header") && limit > 0 {
        errors::put(
            out,
            "Link",
            &links(&state.base_url, uri.path(), &params, offset, limit, total),
        );
    }
    response
}

/// The `Link` header: first, prev, next and last pages, keeping every other parameter.
fn links(
    base: &str,
    path: &str,
    params: &Params,
    offset: usize,
    limit: usize,
    total: usize,
) -> String {
    let url = |at: usize| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        let mut keys: Vec<&String> = params
            .keys()
            .filter(|k| *k != "sysparm_offset" && *k != "sysparm_limit")
            .collect();
        keys.sort();
        for key in keys {
            query.append_pair(key, &params[key]);
        }
        query.append_pair("sysparm_limit", &limit.to_string());
        query.append_pair("sysparm_offset", &at.to_string());
        format!("<{base}{path}?{}>", query.finish())
    };
    let last = if total == 0 {
        0
    } else {
        (total - 1) / limit * limit
    };
    let mut parts = vec![format!("{};rel=\"first\"", url(0))];
    if offset > 0 {
        parts.push(format!(
            "{};rel=\"prev\"",
            url(offset.saturating_sub(limit))
        ));
    }
    if offset + limit < total {
        parts.push(format!("{};rel=\"next\"", url(offset + limit)));
    }
    parts.push(format!("{};rel=\"last\"", url(last)));
    parts.join(",")
}

async fn one_versioned(
    state: State<Arc<AppState>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    match version(&v) {
        Some(_) => one_in(state, table, sys_id, uri, headers),
        None => not_found_path(),
    }
}

async fn one(
    state: State<Arc<AppState>>,
    Path((table, sys_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    one_in(state, table, sys_id, uri, headers)
}

fn one_in(
    State(state): State<Arc<AppState>>,
    table: String,
    sys_id: String,
    uri: OriginalUri,
    headers: HeaderMap,
) -> Response {
    let account = match admit(&state, &headers, &table) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let params = params(&uri);
    let render = Render::new(&params, account, &state.base_url);
    let Ok(store) = state.store.read() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match store.get(&table, &sys_id) {
        Some(row) => Json(json!({"result": render.record(&store, &table, &row)})).into_response(),
        None => record_not_found(),
    }
}

fn record_not_found() -> Response {
    errors::servicenow(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

fn write_denied() -> Response {
    errors::servicenow(
        StatusCode::FORBIDDEN,
        "Operation Failed",
        Some("ACL Exception Insert Failed due to security constraints"),
    )
}

fn admit_write(
    state: &AppState,
    headers: &HeaderMap,
    table: &str,
) -> Result<&'static Account, Response> {
    let account = admit(state, headers, table)?;
    if account.roles.contains(&"admin") {
        Ok(account)
    } else {
        Err(write_denied())
    }
}

fn body_object(body: &Bytes) -> Result<Value, Response> {
    match serde_json::from_slice::<Value>(body) {
        Ok(value @ Value::Object(_)) => Ok(value),
        _ => Err(errors::servicenow(
            StatusCode::BAD_REQUEST,
            "Exception while reading request",
            Some("The payload is not valid JSON."),
        )),
    }
}

async fn insert_versioned(
    state: State<Arc<AppState>>,
    Path((v, table)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match version(&v) {
        Some(_) => write_in(state, table, None, uri, headers, body),
        None => not_found_path(),
    }
}

async fn insert(
    state: State<Arc<AppState>>,
    Path(table): Path<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_in(state, table, None, uri, headers, body)
}

async fn update_versioned(
    state: State<Arc<AppState>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match version(&v) {
        Some(_) => write_in(state, table, Some(sys_id), uri, headers, body),
        None => not_found_path(),
    }
}

async fn update(
    state: State<Arc<AppState>>,
    Path((table, sys_id)): Path<(String, String)>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    write_in(state, table, Some(sys_id), uri, headers, body)
}

fn write_in(
    State(state): State<Arc<AppState>>,
    table: String,
    sys_id: Option<String>,
    uri: OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let account = match admit_write(&state, &headers, &table) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let mut value = match body_object(&body) {
        Ok(value) => value,
        Err(response) => return response,
    };
    let Ok(mut store) = state.store.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let status = match &sys_id {
        Some(id) => {
            if store.get(&table, id).is_none() {
                return record_not_found();
            }
            value["sys_id"] = json!(id);
            StatusCode::OK
        }
        None => {
            // An insert never overwrites: a client-supplied sys_id is ignored if taken.
            if value
                .get("sys_id")
                .and_then(Value::as_str)
                .is_some_and(|id| store.get(&table, id).is_some())
            {
                if let Some(object) = value.as_object_mut() {
                    object.remove("sys_id");
                }
            }
            StatusCode::CREATED
        }
    };
    let record = match store.upsert(&table, &value, account.user_name) {
        Ok(record) => record,
        Err(_) => return errors::servicenow(StatusCode::BAD_REQUEST, "Invalid record", None),
    };
    let render = Render::new(&params(&uri), account, &state.base_url);
    let rendered = render.record(&store, &table, &record);
    (status, Json(json!({"result": rendered}))).into_response()
}

async fn remove_versioned(
    state: State<Arc<AppState>>,
    Path((v, table, sys_id)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    match version(&v) {
        Some(_) => remove_in(state, table, sys_id, headers),
        None => not_found_path(),
    }
}

async fn remove(
    state: State<Arc<AppState>>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    remove_in(state, table, sys_id, headers)
}

fn remove_in(
    State(state): State<Arc<AppState>>,
    table: String,
    sys_id: String,
    headers: HeaderMap,
) -> Response {
    let account = match admit_write(&state, &headers, &table) {
        Ok(account) => account,
        Err(response) => return response,
    };
    let Ok(mut store) = state.store.write() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match store.delete(&table, &sys_id, account.user_name) {
        Ok(_) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => record_not_found(),
    }
}
