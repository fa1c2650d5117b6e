//! Injected faults: rules matched by path prefix, applied by count or rate, and the middleware
//! that turns a matching request into the failure a real instance or network produces.
//!
//! Rate-based rules roll a seeded RNG, so a given seed and request sequence fails the same way
//! every run. `/sim/` itself is never faulted, so a test can always clear what it injected.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::errors;
use crate::server::AppState;

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (401, 403, 429, 500, 503…) and the service's error body.
    Status,
    /// A complete response whose body is not valid JSON.
    MalformedJson,
    /// The connection drops halfway through the body.
    Truncated,
    /// The response is delayed by `delay_ms`.
    Slow,
    /// ServiceNow's transaction quota error (default status 500).
    TransactionCancelled,
    /// Table API pages lose rows after the limit is applied (ACL-hidden rows).
    ShortPage,
}

/// A fault rule as posted to `POST /sim/faults`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub path_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<FaultKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// A 429 without `Retry-After` or any rate-limit header, as some gateways send it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub bare: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Rows a short page withholds; default half the page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hide_rows: Option<usize>,
}

/// Why a fault spec was refused.
#[derive(Debug, thiserror::Error)]
pub enum FaultError {
    #[error("path_prefix must start with '/'")]
    Path,
    #[error("give either \"status\" or \"kind\"")]
    NoKind,
    #[error("kind \"status\" needs a \"status\" between 400 and 599")]
    Status,
    #[error("rate must be between 0.0 and 1.0")]
    Rate,
    #[error("give either \"count\" or \"rate\", not both")]
    CountAndRate,
    #[error("kind \"slow\" needs \"delay_ms\"")]
    Delay,
}

impl FaultSpec {
    /// The effective kind: a bare `status` means [`FaultKind::Status`].
    pub fn kind(&self) -> Option<FaultKind> {
        self.kind.or(self.status.map(|_| FaultKind::Status))
    }

    fn validate(&self) -> Result<FaultKind, FaultError> {
        if !self.path_prefix.starts_with('/') {
            return Err(FaultError::Path);
        }
        let kind = self.kind().ok_or(FaultError::NoKind)?;
        if kind == FaultKind::Status && !self.status.is_some_and(|s| (400..600).contains(&s)) {
            return Err(FaultError::Status);
        }
        if self.rate.is_some_and(|r| !(0.0..=1.0).contains(&r)) {
            return Err(FaultError::Rate);
        }
        if self.rate.is_some() && self.count.is_some() {
            return Err(FaultError::CountAndRate);
        }
        if kind == FaultKind::Slow && self.delay_ms.is_none() {
            return Err(FaultError::Delay);
        }
        Ok(kind)
    }
}

/// A stored rule with its bookkeeping.
#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: u64,
    #[serde(flatten)]
    pub spec: FaultSpec,
    /// Requests it may still fault when created with `count`.
    pub remaining: Option<u32>,
    /// Requests it has faulted so far.
    pub hits: u64,
}

/// All rules, in the order they were added; the first that applies wins.
pub struct Faults {
    rules: Vec<Rule>,
    next_id: u64,
    rng: ChaCha8Rng,
}

impl Faults {
    pub fn new(seed: u64) -> Faults {
        Faults {
            rules: Vec::new(),
            next_id: 1,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x4641_554c_5453),
        }
    }

    pub fn add(&mut self, spec: FaultSpec) -> Result<Rule, FaultError> {
        spec.validate()?;
        let rule = Rule {
            id: self.next_id,
            remaining: spec.count,
            spec,
            hits: 0,
        };
        self.next_id += 1;
        self.rules.push(rule.clone());
        Ok(rule)
    }

    pub fn list(&self) -> Vec<Rule> {
        self.rules.clone()
    }

    pub fn clear(&mut self) {
        self.rules.clear();
    }

    pub fn remove(&mut self, id: u64) -> bool {
        let before = self.rules.len();
        self.rules.retain(|r| r.id != id);
        self.rules.len() != before
    }

    /// The rule that faults this request, if any, consuming one of its count.
    fn take(&mut self, method: &str, path: &str) -> Option<FaultSpec> {
        for rule in &mut self.rules {
            if !path.starts_with(&rule.spec.path_prefix) {
                continue;
            }
            if rule
                .spec
                .method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
            {
                continue;
            }
            if rule.remaining == Some(0) {
                continue;
            }
            if let Some(rate) = rule.spec.rate {
                if self.rng.random::<f64>() >= rate {
                    continue;
                }
            }
            if let Some(remaining) = rule.remaining.as_mut() {
                *remaining -= 1;
            }
            rule.hits += 1;
            return Some(rule.spec.clone());
        }
        None
    }
}

/// Request extension telling the Table API to withhold rows from this page.
#[derive(Debug, Clone, Copy)]
pub struct ShortPage {
    pub hide: Option<usize>,
}

/// Which service's error shapes a path gets.
fn is_jira(path: &str) -> bool {
    path.starts_with("/rest/") || path.starts_with("/dc/rest/")
}

/// The middleware.
pub async fn apply(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if path == "/sim" || path.starts_with("/sim/") {
        return next.run(request).await;
    }
    let spec = state
        .faults
        .lock()
        .ok()
        .and_then(|mut f| f.take(request.method().as_str(), &path));
    let Some(spec) = spec else {
        return next.run(request).await;
    };
    let delay = Duration::from_millis(spec.delay_ms.unwrap_or(0));
    match spec.kind().unwrap_or(FaultKind::Status) {
        FaultKind::Status => {
            tokio::time::sleep(delay).await;
            let mut response = status_response(
                &path,
                spec.status.unwrap_or(500),
                spec.retry_after.unwrap_or(1),
            );
            if spec.bare {
                let headers = response.headers_mut();
                for name in [
                    "retry-after",
                    "x-ratelimit-limit",
                    "x-ratelimit-remaining",
                    "x-ratelimit-reset",
                    "x-ratelimit-rule",
                ] {
                    headers.remove(name);
                }
            }
            response
        }
        FaultKind::Slow => {
            tokio::time::sleep(delay).await;
            next.run(request).await
        }
        FaultKind::TransactionCancelled => {
            tokio::time::sleep(delay).await;
            let status = StatusCode::from_u16(spec.status.unwrap_or(500))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            errors::servicenow(
                status,
                "Transaction cancelled: maximum execution time exceeded",
                Some("Transaction cancelled: maximum execution time exceeded Check logs for error trace or enable glide.rest.debug property to verify REST request processing"),
            )
        }
        FaultKind::ShortPage => {
            request.extensions_mut().insert(ShortPage {
                hide: spec.hide_rows,
            });
            next.run(request).await
        }
        FaultKind::MalformedJson => {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            // Cut the document and append what a misbehaving proxy might: never valid JSON.
            let mut broken = bytes[..bytes.len() * 2 / 3].to_vec();
            broken.extend_from_slice(b"<html><body>upstream reset</body></html>");
            let mut response = Response::from_parts(parts, Body::from(broken));
            response.headers_mut().remove(header::CONTENT_LENGTH);
            response
        }
        FaultKind::Truncated => {
            let (parts, body) = next.run(request).await.into_parts();
            let bytes = axum::body::to_bytes(body, usize::MAX)
                .await
                .unwrap_or_default();
            let half = Bytes::copy_from_slice(&bytes[..bytes.len() / 2]);
            // Yield the first half, pause so hyper flushes it to the socket, then fail the body,
            // which makes hyper drop the connection short of the announced length.
            let chunks = stream::unfold(Some(half), |state| async move {
                match state {
                    Some(half) => Some((Ok(half), None)),
                    None => {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        let error = std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "simulated truncation",
                        );
                        Some((Err::<Bytes, _>(error), None))
                    }
                }
            });
            let mut response = Response::from_parts(parts, Body::from_stream(chunks));
            // Announce the full length so the client knows the body ended early.
            if let Ok(value) = HeaderValue::from_str(&bytes.len().to_string()) {
                response.headers_mut().insert(header::CONTENT_LENGTH, value);
            }
            response
        }
    }
}

fn status_response(path: &str, status: u16, retry_after: u64) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if is_jira(path) {
        return match status {
            429 => errors::jira_rate_limited(retry_after),
            401 => errors::jira(
                code,
                "You are not authenticated. Authentication required to perform this operation.",
            ),
            403 => errors::jira(
                code,
                "You do not have permission to perform this operation.",
            ),
            _ => errors::jira(code, "Internal server error"),
        };
    }
    if path == "/oauth_token.do" && status == 401 {
        return errors::oauth_denied();
    }
    match status {
        401 => errors::servicenow_unauthenticated(),
        403 => errors::servicenow_forbidden(path.rsplit('/').next().unwrap_or_default()),
        429 => errors::servicenow_rate_limited(retry_after),
        503 => (code, "<html><body><h1>503 Service Unavailable</h1>The instance is hibernating or under maintenance.</body></html>")
            .into_response(),
        _ => errors::servicenow(code, "Internal Server Error", Some("An unexpected error occurred while processing the request")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(json: &str) -> FaultSpec {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn count_rules_fire_exactly_count_times_then_stop() {
        let mut faults = Faults::new(1);
        faults.add(spec(r#"{"path_prefix":"/api/now/table/incident","status":429,"retry_after":1,"count":2}"#)).unwrap();
        assert!(faults.take("GET", "/api/now/table/incident").is_some());
        assert!(faults.take("GET", "/api/now/table/sys_user").is_none());
        assert!(faults.take("GET", "/api/now/table/incident").is_some());
        assert!(faults.take("GET", "/api/now/table/incident").is_none());
        assert_eq!(faults.list()[0].hits, 2);
    }

    #[test]
    fn rates_are_deterministic_per_seed() {
        let run = |seed| {
            let mut faults = Faults::new(seed);
            faults
                .add(spec(
                    r#"{"path_prefix":"/","kind":"malformed_json","rate":0.3}"#,
                ))
                .unwrap();
            (0..200)
                .map(|_| faults.take("GET", "/x").is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(5), run(5));
        let hits = run(5).iter().filter(|h| **h).count();
        assert!((30..90).contains(&hits), "{hits}");
    }

    #[test]
    fn invalid_specs_are_refused() {
        let mut faults = Faults::new(1);
        for bad in [
            r#"{"path_prefix":"api","status":500}"#,
            r#"{"path_prefix":"/"}"#,
            r#"{"path_prefix":"/","status":200}"#,
            r#"{"path_prefix":"/","status":500,"rate":1.5}"#,
            r#"{"path_prefix":"/","kind":"slow"}"#,
            r#"{"path_prefix":"/","status":500,"rate":0.5,"count":1}"#,
        ] {
            assert!(faults.add(spec(bad)).is_err(), "{bad}");
        }
    }
}
