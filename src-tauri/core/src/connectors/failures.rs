//! What a failed request means: replies split into what the connector interprets and what is
//! retried, transport errors named precisely (DNS, refusal, TLS, timeout), and the error a user
//! sees when the retries are spent.
//!
//! Invariant: messages name the system and what to do; details may name the URL (which holds no
//! secrets: credentials travel only in headers and form bodies) but never a request body.

use std::error::Error as _;
use std::time::SystemTime;

use reqwest::StatusCode;
use serde_json::Value;

use super::http::Reply;
use super::retry::{asked_wait, Transient};
use crate::error::{CoreError, ErrorCode};

pub(crate) fn cancelled() -> CoreError {
    CoreError::new(ErrorCode::Cancelled, "The operation was cancelled.")
}

/// An error with the guide's message and a technical detail (in `fields["detail"]`, which the
/// sync pipeline can store as the sync error's detail).
pub(crate) fn error(
    code: ErrorCode,
    message: impl Into<String>,
    detail: impl Into<String>,
) -> CoreError {
    CoreError::new(code, message).with_field("detail", detail)
}

/// What a failed TLS handshake means, named from the error text.
fn tls_message(system: &str, detail: &str) -> String {
    let lower = detail.to_ascii_lowercase();
    let problem = if lower.contains("expired") || lower.contains("notvalidyet") {
        "its certificate has expired (or is not valid yet: check this computer's clock)"
    } else if lower.contains("notvalidforname") || lower.contains("not valid for name") {
        "its certificate is for another host name: check the URL"
    } else if lower.contains("corrupt message") {
        "the server on that port does not speak TLS: check the URL's scheme (https://) and port"
    } else {
        "its certificate is not signed by an authority this computer trusts (a self-signed \
         certificate, or a corporate proxy that inspects TLS)"
    };
    format!(
        "The secure connection to {system} failed: {problem}. Credentials were not sent. Ask your \
         network team which certificate authority signs it, then choose that CA's PEM file as \
         this integration's CA certificates (CLI: --ca-file) or add it to this computer's trust \
         store."
    )
}

/// The message for an unreachable system, from the integrations guide.
pub(crate) fn unreachable_message(system: &str) -> String {
    format!(
        "{system} is unreachable or the network has a problem. Verify the URL is correct, check \
         that firewall rules allow outbound HTTPS, and make sure the {system} instance is online."
    )
}

pub(super) fn give_up(system: &str, what: &str, failure: &Transient, reason: &str) -> CoreError {
    let detail = format!("{what}: {} ({reason})", failure.detail());
    match failure {
        Transient::RateLimited { .. } => error(
            ErrorCode::RateLimited,
            format!(
                "{system} is rate limiting the app: too many API requests in a short time. Wait a \
                 few minutes before retrying, ask your {system} admin about rate limits, or sync \
                 less often."
            ),
            detail,
        ),
        Transient::Unavailable { .. } => error(
            ErrorCode::ServerError,
            format!(
                "{system} stayed unavailable (HTTP 503) for several minutes: it is probably \
                 under maintenance or overloaded. Try again later; the next sync carries on \
                 where this one stopped."
            ),
            detail,
        ),
        Transient::Server { .. } | Transient::Slow { timeout: false, .. } => error(
            ErrorCode::ServerError,
            format!(
                "{system} kept failing with server errors. The instance may be overloaded or under \
                 maintenance: try again later, and ask its admin to check the instance logs if it \
                 persists."
            ),
            detail,
        ),
        // Not retried: a TLS failure (see `transport`).
        Transient::Connect { retry: false, .. } => {
            error(ErrorCode::Tls, tls_message(system, &detail), detail)
        }
        Transient::Slow { timeout: true, .. } | Transient::Connect { .. } => {
            error(ErrorCode::Unreachable, unreachable_message(system), detail)
        }
        Transient::Malformed { .. } => error(
            ErrorCode::MalformedResponse,
            format!(
                "{system} sent answers that are not the JSON its API documents (an HTML page or a \
                 cut connection). Check that the URL points at the instance itself and not at a \
                 login page or proxy, then try again."
            ),
            detail,
        ),
    }
}

/// Splits replies into what the connector interprets and what is retried.
pub(super) fn classify(reply: Reply) -> Result<Reply, Transient> {
    let status = reply.status;
    // ServiceNow's transaction quota: usually a 500, but sent with 200 by some releases (pysnc
    // checks for it on successful responses too).
    if let Some(message) = cancelled_transaction(reply.json()) {
        return Err(Transient::Slow {
            detail: format!("HTTP {}: {message}", status.as_u16()),
            timeout: false,
        });
    }
    if status == StatusCode::TOO_MANY_REQUESTS {
        return Err(Transient::RateLimited {
            detail: reply.describe(),
            asked: asked_wait(&reply.headers, SystemTime::now()),
        });
    }
    if status.is_server_error() {
        // Jira Cloud sometimes rate limits with a 503 and Retry-After.
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return Err(match asked_wait(&reply.headers, SystemTime::now()) {
                Some(asked) => Transient::RateLimited {
                    detail: reply.describe(),
                    asked: Some(asked),
                },
                // A maintenance page or an overloaded node: wait it out like a rate limit.
                None => Transient::Unavailable {
                    detail: reply.describe(),
                },
            });
        }
        return Err(Transient::Server {
            detail: reply.describe(),
        });
    }
    if status.is_success() && reply.body.is_none() {
        return Err(Transient::Malformed {
            detail: format!(
                "HTTP {}: the body is not JSON: {:?}",
                status.as_u16(),
                reply.snippet
            ),
        });
    }
    Ok(reply)
}

fn cancelled_transaction(body: &Value) -> Option<&str> {
    let message = body.get("error")?.get("message")?.as_str()?;
    message
        .to_ascii_lowercase()
        .contains("transaction cancelled")
        .then_some(message)
}

/// Names the transport failure precisely: the user's fix differs for DNS, refusal, TLS and
/// timeouts.
pub(super) fn transport(e: reqwest::Error) -> Transient {
    let text = chain(&e);
    // Classify on the causes only: the top-level message holds the URL, whose host could contain
    // any of the words looked for.
    let mut causes = String::new();
    let mut source = e.source();
    while let Some(err) = source {
        causes.push_str(&err.to_string().to_ascii_lowercase());
        causes.push(' ');
        source = err.source();
    }
    let lower = causes;
    let io_kind = io_error_kind(&e);
    if e.is_timeout() || io_kind == Some(std::io::ErrorKind::TimedOut) {
        let phase = if e.is_connect() {
            "connecting"
        } else {
            "waiting for the answer"
        };
        return Transient::Slow {
            detail: format!("timed out while {phase}: {text}"),
            timeout: true,
        };
    }
    // rustls names certificate problems; "corrupt message" is a server that does not speak TLS
    // on an https:// port.
    let tls = lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("corrupt message");
    let what = if lower.contains("dns error")
        || lower.contains("failed to lookup")
        || lower.contains("name or service not known")
    {
        "DNS lookup failed (check the host name)"
    } else if io_kind == Some(std::io::ErrorKind::ConnectionRefused)
        || lower.contains("connection refused")
    {
        "connection refused (check the host and port, and that the instance is up)"
    } else if tls {
        "TLS handshake failed (certificate or proxy problem)"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "the connection failed"
    };
    Transient::Connect {
        detail: format!("{what}: {text}"),
        retry: !tls,
    }
}

fn io_error_kind(e: &reqwest::Error) -> Option<std::io::ErrorKind> {
    let mut source = e.source();
    while let Some(err) = source {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = err.source();
    }
    None
}

/// The error and its causes on one line. reqwest errors name the URL, which holds no secrets:
/// credentials travel only in headers and form bodies.
pub(super) fn chain(e: &reqwest::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}
