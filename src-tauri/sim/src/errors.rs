//! Error responses in the exact shapes the real services send.
//!
//! ServiceNow: `{"error":{"message","detail"},"status":"failure"}`; Jira:
//! `{"errorMessages":[…],"errors":{}}`; OAuth: the deliberately opaque `access_denied`.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A ServiceNow REST error.
pub fn servicenow(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = json!({"error": {"message": message, "detail": detail}, "status": "failure"});
    (status, axum::Json(body)).into_response()
}

/// 401 as the Table API sends it for missing, wrong or expired credentials.
pub fn servicenow_unauthenticated() -> Response {
    let mut response = servicenow(
        StatusCode::UNAUTHORIZED,
        "User Not Authenticated",
        Some("Required to provide Auth information"),
    );
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("BASIC realm=\"Service-now\""),
    );
    response
}

/// 403 for a table the user's roles do not allow reading.
pub fn servicenow_forbidden(table: &str) -> Response {
    servicenow(
        StatusCode::FORBIDDEN,
        "User Not Authorized",
        Some(&format!(
            "ACL restricts the record retrieval: no read access to table {table}"
        )),
    )
}

/// 429 with the rate-limit headers a real instance sends.
pub fn servicenow_rate_limited(retry_after: u64) -> Response {
    let mut response = servicenow(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        Some("Rate limit of 100 requests per hour for Table API exceeded"),
    );
    let reset = time::OffsetDateTime::now_utc().unix_timestamp() + retry_after as i64;
    let headers = response.headers_mut();
    put(headers, "Retry-After", &retry_after.to_string());
    put(headers, "X-RateLimit-Limit", "100");
    put(headers, "X-RateLimit-Reset", &reset.to_string());
    put(
        headers,
        "X-RateLimit-Rule",
        "b7cf0a5ec3fd2110c2d4a5e5c001a0f2",
    );
    response
}

/// A Jira REST error.
pub fn jira(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"errorMessages": [message], "errors": {}})),
    )
        .into_response()
}

/// A Jira 429 with `Retry-After` and the `X-RateLimit-*` headers Cloud sends.
pub fn jira_rate_limited(retry_after: u64) -> Response {
    let mut response = jira(StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
    let reset = time::OffsetDateTime::now_utc() + time::Duration::seconds(retry_after as i64);
    let reset = reset
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let headers = response.headers_mut();
    put(headers, "Retry-After", &retry_after.to_string());
    put(headers, "X-RateLimit-Limit", "350");
    put(headers, "X-RateLimit-Remaining", "0");
    put(headers, "X-RateLimit-Reset", &reset);
    response
}

/// The token endpoint's one and only failure body: it never says what was wrong.
pub fn oauth_denied() -> Response {
    let body: Value = json!({"error_description": "access_denied", "error": "server_error"});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

pub fn put(headers: &mut HeaderMap, name: &'static str, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}
