//! The HTTP client every connector shares, and the one place requests are sent, retried,
//! cancelled and turned into [`Reply`]s or [`CoreError`]s.
//!
//! Invariants: only this module sleeps between attempts (for backoff or the request budget),
//! and it alone (through `failures`) classifies transport failures; the connectors decide what
//! a 4xx means for their system. No redirect leaves the origin a request
//! was sent to, so credentials (headers, an OAuth form) reach only the host they were entered
//! for; and no body is read past a size cap, so a broken or hostile server cannot exhaust memory.

use std::time::{Duration, SystemTime};

use reqwest::header::{HeaderMap, LOCATION};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

pub(crate) use super::failures::{cancelled, error, unreachable_message};
use super::failures::{chain, classify, give_up, transport};
use super::pacing::{Pacing, WaitReason};
use super::retry::{Backoff, Decision, RetryPolicy, Transient};
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

/// A reqwest client with the app's timeouts, user agent, rustls and redirect policy, trusting
/// the OS trust store.
pub fn client() -> CoreResult<reqwest::Client> {
    client_trusting(None)
}

/// [`client`], also trusting the certificates of a PEM bundle (an integration's CA file).
/// Proxies come from `HTTPS_PROXY`/`HTTP_PROXY`/`NO_PROXY` (reqwest reads them).
pub fn client_trusting(ca_pem: Option<&str>) -> CoreResult<reqwest::Client> {
    let mut builder = reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(REQUEST_TIMEOUT)
        .redirect(redirect_policy());
    if let Some(pem) = ca_pem {
        let unreadable = |detail: String| {
            CoreError::new(
                ErrorCode::Validation,
                "The integration's CA certificates cannot be read: choose the CA file again.",
            )
            .with_field("detail", detail)
        };
        let certs = super::trust::pem_certificates(pem).map_err(|p| unreadable(p.to_string()))?;
        let config = super::trust::client_config(certs).map_err(|e| unreadable(e.to_string()))?;
        builder = builder.tls_backend_preconfigured(config);
    }
    builder
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
    /// The request budget to stay under and who to tell about waits.
    pub pacing: Pacing,
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
            self.within_budget().await?;
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
                    match failure {
                        Transient::RateLimited { .. } => {
                            self.pacing.announce(WaitReason::RateLimited, wait)
                        }
                        Transient::Unavailable { .. } => {
                            self.pacing.announce(WaitReason::Unavailable, wait)
                        }
                        _ => {}
                    }
                    self.sleep(wait).await?;
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
    /// Waits until the request budget has room for one more request, and takes it.
    async fn within_budget(&self) -> CoreResult<()> {
        let Some(budget) = &self.pacing.budget else {
            return Ok(());
        };
        while let Some(wait) = budget.take(SystemTime::now()) {
            tracing::info!(
                wait_s = wait.as_secs(),
                per_hour = budget.per_hour(),
                "request budget spent, waiting"
            );
            self.pacing.announce(WaitReason::Budget, wait);
            self.sleep(wait).await?;
            if self.policy.time_scale < 1.0 {
                // A shortened (test) sleep does not move the clock the budget reads: count
                // the request as sent now, as it would be after the full wait.
                budget.record(SystemTime::now());
                return Ok(());
            }
        }
        Ok(())
    }

    /// Sleeps `wait` (scaled by the policy), or fails with `cancelled` when cancelled first.
    async fn sleep(&self, wait: Duration) -> CoreResult<()> {
        tokio::select! {
            () = tokio::time::sleep(self.policy.scaled(wait)) => Ok(()),
            () = self.cancel.cancelled() => Err(cancelled()),
        }
    }

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
