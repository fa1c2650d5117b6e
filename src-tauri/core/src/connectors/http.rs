//! The HTTP client every connector shares, and the one place requests are sent, retried,
//! cancelled and turned into [`Reply`]s or [`CoreError`]s.
//!
//! Invariants: only this module sleeps between attempts or classifies transport failures; the
//! connectors decide what a 4xx means for their system. No redirect leaves the origin a request
//! was sent to, so credentials (headers, an OAuth form) reach only the host they were entered
//! for; and no body is read past a size cap, so a broken or hostile server cannot exhaust memory.

use std::error::Error as _;
use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::retry::{asked_wait, Backoff, Decision, RetryPolicy, Transient};
use crate::error::{CoreError, CoreResult, ErrorCode};

/// Sent with every request so instance admins can tell the app's traffic apart in their logs.
pub const USER_AGENT: &str = concat!("SupportBotDesktop/", env!("CARGO_PKG_VERSION"));
/// A TCP + TLS handshake that takes longer than this will not succeed.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// ServiceNow cancels transactions after 60 s; waiting longer for one answer is pointless.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Redirects followed within the origin of a request; a longer chain is refused.
pub const MAX_REDIRECTS: usize = 3;
/// The default cap on one response body: far above any page the connectors ask for (a 10,000
/// row Table API page is a few MB), far below what would strain the machine.
pub const MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// A reqwest client with the app's timeouts, user agent, rustls and redirect policy.
pub fn client() -> CoreResult<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(redirect_policy())
        .build()
        .map_err(|e| CoreError::internal(format!("Cannot set up the HTTP client: {e}")))
}

/// Follows a redirect only to the origin (scheme, host, port) of the first request, at most
/// [`MAX_REDIRECTS`] times; anything else stops, and [`Http::send`] refuses the 3xx it then
/// sees. reqwest's default follows ten redirects to any host and, on a 307/308, sends the body
/// (an OAuth form with the client secret and password) and custom headers (the Virtual Agent's
/// `token`) again: it drops only `Authorization` and cookies.
fn redirect_policy() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let previous = attempt.previous();
        let same_origin = previous
            .first()
            .is_some_and(|first| first.origin() == attempt.url().origin());
        if same_origin && previous.len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// One attempt of a request, as the request builder sees it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Attempt {
    /// 1 for the first try.
    pub number: u32,
    /// How many earlier attempts failed because the server found the request too slow (a
    /// cancelled transaction or a timeout): builders ask for smaller pages accordingly.
    pub slow_failures: u32,
}

/// A response that is either a success with a JSON body or a client error for the connector to
/// interpret (401, 403, 400, 404…).
#[derive(Debug)]
pub(crate) struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// The JSON body; always present on a 2xx, when parseable otherwise.
    pub body: Option<Value>,
    /// The start of a non-JSON error body, for error details.
    pub snippet: String,
    /// The attempt that produced this reply.
    pub attempt: Attempt,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body or `Null`.
    pub(crate) fn json(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    /// `HTTP 403: <the server's own words>` for error details.
    pub(crate) fn describe(&self) -> String {
        let mut words = super::pages::error_words(self.json());
        if words.is_empty() && !self.snippet.is_empty() {
            words.push(self.snippet.clone());
        }
        let status = self.status.as_u16();
        if words.is_empty() {
            format!("HTTP {status}")
        } else {
            format!("HTTP {status}: {}", words.join(" - "))
        }
    }
}

/// Sends requests for one connector: its system's name (for messages), retry policy and cancel
/// token.
#[derive(Debug, Clone)]
pub(crate) struct Http {
    pub client: reqwest::Client,
    pub policy: RetryPolicy,
    pub cancel: CancellationToken,
    /// "ServiceNow" or "Jira", for messages.
    pub system: &'static str,
    /// The most bytes one response body may have ([`MAX_RESPONSE_BYTES`] unless a caller
    /// chose otherwise).
    pub max_body: u64,
}

impl Http {
    /// Sends the request `build` makes (called again for each attempt, so it can shrink a page)
    /// until it succeeds, fails permanently, or the retry budget is spent. `what` names the
    /// resource in logs and error details (e.g. "table incident"); never put secrets in it.
    pub(crate) async fn send<F>(&self, what: &str, mut build: F) -> CoreResult<Reply>
    where
        F: FnMut(&Attempt) -> RequestBuilder,
    {
        let mut backoff = Backoff::new(&self.policy);
        let mut attempt = Attempt::default();
        loop {
            if self.cancel.is_cancelled() {
                return Err(cancelled());
            }
            attempt.number += 1;
            backoff.attempts = attempt.number;
            let request = build(&attempt);
            let outcome = tokio::select! {
                outcome = self.fetch(what, request, attempt) => outcome,
                () = self.cancel.cancelled() => return Err(cancelled()),
            };
            let outcome = match outcome {
                Ok(reply) => Ok(reply),
                Err(Failure::Retry(failure)) => Err(failure),
                Err(Failure::Stop(e)) => {
                    tracing::warn!(
                        what,
                        attempt = attempt.number,
                        code = e.code.as_str(),
                        "itsm request refused"
                    );
                    return Err(e);
                }
            };
            let failure = match outcome {
                Ok(reply) => match classify(reply) {
                    Ok(reply) => {
                        tracing::debug!(
                            what,
                            status = reply.status.as_u16(),
                            attempt = attempt.number,
                            "itsm request"
                        );
                        return Ok(reply);
                    }
                    Err(failure) => failure,
                },
                Err(failure) => failure,
            };
            if matches!(failure, Transient::Slow { .. }) {
                attempt.slow_failures += 1;
            }
            match backoff.after(&failure) {
                Decision::Wait(wait) => {
                    tracing::warn!(
                        what,
                        attempt = attempt.number,
                        wait_ms = wait.as_millis() as u64,
                        detail = failure.detail(),
                        "itsm request failed, retrying"
                    );
                    let sleep = tokio::time::sleep(self.policy.scaled(wait));
                    tokio::select! {
                        () = sleep => {}
                        () = self.cancel.cancelled() => return Err(cancelled()),
                    }
                }
                Decision::GiveUp(reason) => {
                    tracing::warn!(
                        what,
                        attempt = attempt.number,
                        detail = failure.detail(),
                        "itsm request failed, giving up"
                    );
                    return Err(give_up(self.system, what, &failure, &reason));
                }
            }
        }
    }
}

impl Http {
    /// One GET of `url` without credentials or retries: whether the system answers at all
    /// (DNS, TCP, TLS). Any HTTP status is an answer.
    pub(crate) async fn probe(&self, url: url::Url) -> CoreResult<u16> {
        match self.client.get(url).send().await {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) => Err(give_up(
                self.system,
                "connection check",
                &transport(e),
                "checked once",
            )),
        }
    }
}

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
         network team which certificate authority signs it and add it to this computer's trust \
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

fn give_up(system: &str, what: &str, failure: &Transient, reason: &str) -> CoreError {
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

/// Why one attempt produced no reply.
enum Failure {
    /// Worth another attempt (within the retry budget).
    Retry(Transient),
    /// Final: another attempt would meet the same redirect or the same oversized body.
    Stop(CoreError),
}

impl Http {
    /// Sends one request and reads its body, up to [`Http::max_body`] bytes.
    async fn fetch(
        &self,
        what: &str,
        request: RequestBuilder,
        attempt: Attempt,
    ) -> Result<Reply, Failure> {
        let mut response = request
            .send()
            .await
            .map_err(|e| Failure::Retry(transport(e)))?;
        let status = response.status();
        let headers = response.headers().clone();
        if status.is_redirection() {
            // The policy stopped here: the location is another origin, or one hop too many.
            return Err(Failure::Stop(redirect_refused(
                self.system,
                what,
                response.url(),
                status,
                &headers,
            )));
        }
        let too_large = || {
            Failure::Stop(error(
                ErrorCode::ResponseTooLarge,
                format!(
                    "{} sent an answer larger than {} MB, so the app stopped reading it. No page \
                     the app asks for is that large: check that the URL points at the instance \
                     itself and not at a proxy or download server.",
                    self.system,
                    self.max_body / (1024 * 1024)
                ),
                format!(
                    "{what}: HTTP {}: more than {} bytes",
                    status.as_u16(),
                    self.max_body
                ),
            ))
        };
        if response.content_length().is_some_and(|n| n > self.max_body) {
            return Err(too_large());
        }
        // Chunk by chunk, so an endless body costs at most the cap before it is refused.
        let mut bytes: Vec<u8> = Vec::new();
        loop {
            let chunk = response.chunk().await.map_err(|e| {
                Failure::Retry(if e.is_timeout() {
                    transport(e)
                } else {
                    Transient::Malformed {
                        detail: format!(
                            "HTTP {}: the body was cut short ({})",
                            status.as_u16(),
                            chain(&e)
                        ),
                    }
                })
            })?;
            let Some(chunk) = chunk else { break };
            if bytes.len() as u64 + chunk.len() as u64 > self.max_body {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        let body = serde_json::from_slice::<Value>(&bytes).ok();
        let snippet = if body.is_none() {
            String::from_utf8_lossy(&bytes[..bytes.len().min(200)])
                .trim()
                .to_owned()
        } else {
            String::new()
        };
        Ok(Reply {
            status,
            headers,
            body,
            snippet,
            attempt,
        })
    }
}

/// The error for a redirect the policy did not follow, naming where it pointed.
fn redirect_refused(
    system: &str,
    what: &str,
    from: &url::Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> CoreError {
    let to = headers
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|location| from.join(location).ok());
    let detail = format!(
        "{what}: HTTP {} from {} to {}",
        status.as_u16(),
        shown(from),
        to.as_ref().map_or_else(|| "nowhere".to_owned(), shown)
    );
    let message = match &to {
        Some(to) if to.origin() != from.origin() => format!(
            "{system} redirected the request to {} — check the URL; credentials were not sent \
             there. Enter the address the instance answers on itself (for example its https:// \
             address), not one that forwards elsewhere.",
            shown(to)
        ),
        Some(to) => format!(
            "{system} redirected the request more than {MAX_REDIRECTS} times (last to {}). Check \
             the URL: enter the address the instance answers on itself.",
            shown(to)
        ),
        None => format!(
            "{system} answered with a redirect (HTTP {}) without a usable location. Check the URL.",
            status.as_u16()
        ),
    };
    error(ErrorCode::RedirectRefused, message, detail)
}

/// A URL for messages: scheme, host, port and at most 80 characters of path. The query is left
/// out: a login redirect can carry tokens or state there.
fn shown(url: &url::Url) -> String {
    let mut text = url.origin().ascii_serialization();
    let path = url.path();
    if path.chars().count() > 80 {
        text.extend(path.chars().take(80));
        text.push('…');
    } else {
        text.push_str(path);
    }
    if url.query().is_some() {
        text.push_str("?…");
    }
    text
}

/// Splits replies into what the connector interprets and what is retried.
fn classify(reply: Reply) -> Result<Reply, Transient> {
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
        if let Some(asked) = asked_wait(&reply.headers, SystemTime::now()) {
            if status == StatusCode::SERVICE_UNAVAILABLE {
                return Err(Transient::RateLimited {
                    detail: reply.describe(),
                    asked: Some(asked),
                });
            }
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
fn transport(e: reqwest::Error) -> Transient {
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
fn chain(e: &reqwest::Error) -> String {
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
