//! When and how long to wait before retrying a request to an ITSM system, and when to give up.
//!
//! Retried: 429 (honouring `Retry-After` in seconds or as an HTTP date, else `X-RateLimit-Reset`
//! as unix seconds or an ISO date), 5xx, ServiceNow's "Transaction cancelled" quota error, cut or
//! unparseable bodies, timeouts and connection failures. Waits use exponential backoff with full
//! jitter (AWS architecture blog, "Exponential Backoff And Jitter"), bounded both by a number of
//! attempts and by a total wait, so a sync never hangs for hours on a server that asks for it.
//!
//! A rate limit or a maintenance page (429, 503) is not an error but a request to slow down:
//! it gets a longer, separate allowance ([`RetryPolicy::rate_limit_attempts`],
//! [`RetryPolicy::rate_limit_total_wait`]) so a run of bare 429s without any header is waited
//! out and the sync resumes, while a broken server (500s) still fails within minutes.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::header::HeaderMap;

/// How persistent the connectors are. Injected so tests can run the same code with millisecond
/// waits: every computed wait is multiplied by `time_scale` just before sleeping, while the
/// give-up decisions use the unscaled values, so tests see the production decisions.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Tries per request, the first one included.
    pub max_attempts: u32,
    /// First backoff ceiling; doubles each retry.
    pub base_delay: Duration,
    /// Ceiling of one backoff wait.
    pub max_delay: Duration,
    /// Give up when the waits of one request would add up to more than this.
    pub max_total_wait: Duration,
    /// A server asking to wait longer than this (e.g. an hourly ServiceNow quota) is not waited
    /// for: the request fails at once with `rate_limited` and the wait in its detail.
    pub max_retry_after: Duration,
    /// Tries per request while the server rate limits or is under maintenance (429, 503).
    pub rate_limit_attempts: u32,
    /// Give up on a rate-limited request when its waits would add up to more than this.
    pub rate_limit_total_wait: Duration,
    /// Multiplies every actual sleep; 1.0 in production.
    pub time_scale: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_total_wait: Duration::from_secs(180),
            max_retry_after: Duration::from_secs(120),
            rate_limit_attempts: 12,
            rate_limit_total_wait: Duration::from_secs(600),
            time_scale: 1.0,
        }
    }
}

impl RetryPolicy {
    /// The production decisions with every sleep shortened a thousandfold (a `Retry-After: 1`
    /// waits 1 ms). For tests and benchmarks.
    pub fn fast() -> RetryPolicy {
        RetryPolicy {
            time_scale: 0.001,
            ..RetryPolicy::default()
        }
    }

    /// For requests a person waits on (chat messages to the Virtual Agent): a rate limit gets
    /// no more patience than a server error.
    pub fn interactive() -> RetryPolicy {
        let policy = RetryPolicy::default();
        RetryPolicy {
            rate_limit_attempts: policy.max_attempts,
            rate_limit_total_wait: policy.max_total_wait,
            ..policy
        }
    }

    /// For a connection check, which a person waits for: two tries, at most 10 s of waiting.
    pub fn quick_check() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 2,
            max_total_wait: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(10),
            rate_limit_attempts: 2,
            rate_limit_total_wait: Duration::from_secs(10),
            ..RetryPolicy::default()
        }
    }

    /// The actual sleep for a computed wait.
    pub(crate) fn scaled(&self, wait: Duration) -> Duration {
        wait.mul_f64(self.time_scale.clamp(0.0, 1.0e3))
    }
}

/// Why an attempt failed in a way worth retrying.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Transient {
    /// 429; the wait the server asked for, if it said.
    RateLimited {
        detail: String,
        asked: Option<Duration>,
    },
    /// 503 without a wait: maintenance or overload, waited out like a rate limit.
    Unavailable { detail: String },
    /// 5xx other than a cancelled transaction or a 503.
    Server { detail: String },
    /// The server gave up on a slow query (transaction quota) or the request timed out: the
    /// caller should ask for less next time.
    Slow { detail: String, timeout: bool },
    /// No connection (DNS, refused, TLS handshake): the detail says which. `retry` is false
    /// for failures that another attempt cannot fix (a rejected certificate).
    Connect { detail: String, retry: bool },
    /// The body was cut or is not the JSON the API documents.
    Malformed { detail: String },
}

impl Transient {
    pub(crate) fn detail(&self) -> &str {
        match self {
            Transient::RateLimited { detail, .. }
            | Transient::Unavailable { detail }
            | Transient::Server { detail }
            | Transient::Slow { detail, .. }
            | Transient::Connect { detail, .. }
            | Transient::Malformed { detail } => detail,
        }
    }

    /// A request to slow down rather than a failure: gets the rate-limit allowance.
    pub(crate) fn is_slow_down(&self) -> bool {
        matches!(
            self,
            Transient::RateLimited { .. } | Transient::Unavailable { .. }
        )
    }
}

/// What to do after a transient failure.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Decision {
    /// Sleep this long (unscaled), then try again.
    Wait(Duration),
    /// Stop; the reason completes the error detail.
    GiveUp(String),
}

/// The retry bookkeeping of one request.
#[derive(Debug)]
pub(crate) struct Backoff<'p> {
    policy: &'p RetryPolicy,
    /// Attempts made so far.
    pub attempts: u32,
    waited: Duration,
}

impl<'p> Backoff<'p> {
    pub(crate) fn new(policy: &'p RetryPolicy) -> Backoff<'p> {
        Backoff {
            policy,
            attempts: 0,
            waited: Duration::ZERO,
        }
    }

    /// Decides after the attempt just made failed with `failure`.
    pub(crate) fn after(&mut self, failure: &Transient) -> Decision {
        if let Transient::RateLimited {
            asked: Some(asked), ..
        } = failure
        {
            if *asked > self.policy.max_retry_after {
                return Decision::GiveUp(format!(
                    "the server asks to wait {} s before the next request",
                    asked.as_secs()
                ));
            }
        }
        if let Transient::Connect { retry: false, .. } = failure {
            return Decision::GiveUp("not retried".to_owned());
        }
        let (max_attempts, max_wait) = if failure.is_slow_down() {
            (
                self.policy.rate_limit_attempts,
                self.policy.rate_limit_total_wait,
            )
        } else {
            (self.policy.max_attempts, self.policy.max_total_wait)
        };
        if self.attempts >= max_attempts.max(1) {
            return Decision::GiveUp(format!("gave up after {} attempts", self.attempts));
        }
        let wait = match failure {
            Transient::RateLimited {
                asked: Some(asked), ..
            } => *asked,
            _ => self.jittered(),
        };
        if self.waited + wait > max_wait {
            return Decision::GiveUp(format!(
                "gave up after {} attempts and {} s of waiting",
                self.attempts,
                self.waited.as_secs()
            ));
        }
        self.waited += wait;
        Decision::Wait(wait)
    }

    /// Full jitter: uniform between zero and the exponential ceiling.
    fn jittered(&self) -> Duration {
        let exponent = self.attempts.saturating_sub(1).min(20);
        let ceiling = self
            .policy
            .base_delay
            .saturating_mul(1u32 << exponent)
            .min(self.policy.max_delay);
        let millis = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

/// The wait a 429 asks for: `Retry-After` (delta seconds or HTTP date), else `X-RateLimit-Reset`
/// (unix seconds, as ServiceNow sends it, or an ISO 8601 date, as Jira Cloud does).
pub(crate) fn asked_wait(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    if let Some(value) = header("retry-after") {
        if let Ok(seconds) = value.parse::<u64>() {
            return Some(Duration::from_secs(seconds));
        }
        if let Ok(at) = httpdate::parse_http_date(value) {
            return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
        }
    }
    let reset = header("x-ratelimit-reset")?;
    if let Ok(unix) = reset.parse::<u64>() {
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(unix);
        return Some(at.duration_since(now).unwrap_or(Duration::ZERO));
    }
    let at =
        time::OffsetDateTime::parse(reset, &time::format_description::well_known::Rfc3339).ok()?;
    Some(
        SystemTime::from(at)
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    /// Response headers of a case, and the wait in seconds they should give.
    type Case<'a> = (&'a [(&'static str, &'static str)], Option<u64>);

    #[test]
    fn waits_come_from_retry_after_or_the_reset_header() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cases: &[Case<'_>] = &[
            (&[("retry-after", "7")], Some(7)),
            (
                &[("retry-after", "Tue, 14 Nov 2023 22:13:30 GMT")],
                Some(10),
            ),
            (&[("x-ratelimit-reset", "1700000042")], Some(42)),
            (&[("x-ratelimit-reset", "2023-11-14T22:14:20Z")], Some(60)),
            // A reset in the past means "now", not a negative wait.
            (&[("x-ratelimit-reset", "1600000000")], Some(0)),
            (&[("retry-after", "soon")], None),
            (&[], None),
        ];
        for (pairs, expected) in cases {
            assert_eq!(
                asked_wait(&headers(pairs), now).map(|d| d.as_secs()),
                *expected,
                "{pairs:?}"
            );
        }
    }

    #[test]
    fn backoff_is_bounded_by_attempts_and_by_total_wait() {
        let policy = RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        };
        let mut backoff = Backoff::new(&policy);
        let failure = Transient::Server {
            detail: "HTTP 500".into(),
        };
        let mut waits = 0;
        loop {
            backoff.attempts += 1;
            match backoff.after(&failure) {
                Decision::Wait(wait) => {
                    assert!(wait <= policy.max_delay);
                    waits += 1;
                }
                Decision::GiveUp(reason) => {
                    assert!(reason.contains("3 attempts"), "{reason}");
                    break;
                }
            }
        }
        assert_eq!(waits, 2);

        let policy = RetryPolicy {
            rate_limit_total_wait: Duration::from_secs(5),
            ..RetryPolicy::default()
        };
        let mut backoff = Backoff::new(&policy);
        backoff.attempts = 1;
        let asked = Transient::RateLimited {
            detail: String::new(),
            asked: Some(Duration::from_secs(4)),
        };
        assert_eq!(
            backoff.after(&asked),
            Decision::Wait(Duration::from_secs(4))
        );
        backoff.attempts = 2;
        assert!(matches!(backoff.after(&asked), Decision::GiveUp(_)));
    }

    #[test]
    fn bare_rate_limits_get_a_longer_allowance_than_server_errors() {
        let policy = RetryPolicy::default();
        let mut backoff = Backoff::new(&policy);
        let bare = Transient::RateLimited {
            detail: "HTTP 429".into(),
            asked: None,
        };
        // Six bare 429s in a row are waited out: the seventh attempt is still made.
        for attempt in 1..=6 {
            backoff.attempts = attempt;
            assert!(
                matches!(backoff.after(&bare), Decision::Wait(_)),
                "{attempt}"
            );
        }
        let mut backoff = Backoff::new(&policy);
        let server = Transient::Server {
            detail: "HTTP 500".into(),
        };
        backoff.attempts = policy.max_attempts;
        assert!(matches!(backoff.after(&server), Decision::GiveUp(_)));
        let maintenance = Transient::Unavailable {
            detail: "HTTP 503".into(),
        };
        assert!(matches!(backoff.after(&maintenance), Decision::Wait(_)));
        backoff.attempts = policy.rate_limit_attempts;
        assert!(matches!(backoff.after(&maintenance), Decision::GiveUp(_)));
    }

    #[test]
    fn an_hour_long_retry_after_is_not_waited_for() {
        let policy = RetryPolicy::default();
        let mut backoff = Backoff::new(&policy);
        backoff.attempts = 1;
        let failure = Transient::RateLimited {
            detail: String::new(),
            asked: Some(Duration::from_secs(3600)),
        };
        match backoff.after(&failure) {
            Decision::GiveUp(reason) => assert!(reason.contains("3600 s"), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
}
