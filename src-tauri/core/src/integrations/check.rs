//! The connection check of an integration (`supportbot integrations check NAME`): step by
//! step, what a sync would need, each failed step with advice a support admin can act on.
//!
//! - `reach`: DNS, TCP and TLS: one request without credentials gets any HTTP answer (through
//!   the `HTTPS_PROXY` in force, which the detail names);
//! - `auth`: the stored credentials sign in;
//! - `read`: the account can read the incident table / search issues;
//! - `count`: how many incidents the source counts for the integration's filters
//!   (`source_total`).
//!
//! A step that cannot run because an earlier one failed is reported as not checked.

use serde::{Deserialize, Serialize};

use crate::connectors::{ConnectorOptions, RetryPolicy};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::{Actor, Core, Permission};

/// One step of the check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckStep {
    /// `reach`, `auth`, `read` or `count`.
    pub name: String,
    pub ok: bool,
    /// What happened, in the source's own words where it gave any.
    pub detail: String,
    /// What to do about a failed step; `None` when it passed or was not checked.
    pub advice: Option<String>,
}

/// The outcome of a connection check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationCheck {
    /// Every step passed.
    pub ok: bool,
    pub steps: Vec<CheckStep>,
    /// Incidents the source counts for the integration's filters, when the count step ran.
    pub source_total: Option<u64>,
}

const NOT_CHECKED: &str = "Not checked: an earlier step failed.";

fn passed(name: &str, detail: impl Into<String>) -> CheckStep {
    CheckStep {
        name: name.to_owned(),
        ok: true,
        detail: detail.into(),
        advice: None,
    }
}

fn failed(name: &str, e: &CoreError) -> CheckStep {
    CheckStep {
        name: name.to_owned(),
        ok: false,
        detail: e
            .fields
            .get("detail")
            .cloned()
            .unwrap_or_else(|| e.code.as_str().to_owned()),
        advice: Some(e.message.clone()),
    }
}

fn skipped(name: &str) -> CheckStep {
    CheckStep {
        name: name.to_owned(),
        ok: false,
        detail: NOT_CHECKED.to_owned(),
        advice: None,
    }
}

/// The proxy requests to `url` go through, from the environment (as the HTTP client reads it).
fn proxy_for(url: &str) -> Option<String> {
    proxy_from(url, |name| std::env::var(name).ok())
}

/// [`proxy_for`] with the environment given, so tests need not change the process's own (other
/// tests' HTTP clients read it at the same time).
fn proxy_from(url: &str, env: impl Fn(&str) -> Option<String>) -> Option<String> {
    let host = url::Url::parse(url).ok()?.host_str()?.to_ascii_lowercase();
    let var = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let bypass = var(&["NO_PROXY", "no_proxy"]).unwrap_or_default();
    let bypassed = bypass.split(',').map(str::trim).any(|b| {
        !b.is_empty()
            && (b == "*"
                || host == b.trim_start_matches('.')
                || host.ends_with(&format!(".{}", b.trim_start_matches('.'))))
    });
    let proxy = var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])?;
    // Only where the proxy is, never credentials written into its URL.
    let shown = url::Url::parse(&proxy)
        .map(|u| {
            format!(
                "{}://{}:{}",
                u.scheme(),
                u.host_str().unwrap_or(""),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_else(|_| "(unparsable HTTPS_PROXY)".to_owned());
    (!bypassed).then_some(shown)
}

impl Core {
    /// Checks integration `id` step by step (see the module docs). Permission:
    /// `integration.sync` (it uses the stored credentials, as a sync does).
    pub async fn check_integration(&self, actor: &Actor, id: i64) -> CoreResult<IntegrationCheck> {
        actor.require(Permission::IntegrationSync)?;
        let integration = self.integration(actor, id)?;
        // A person waits for the check: it gives up quickly rather than retrying for minutes.
        let options = ConnectorOptions {
            retry: RetryPolicy::quick_check(),
            ..ConnectorOptions::default()
        };
        let mut connector = self.connector_for(&integration, options)?;
        let mut steps = Vec::new();
        let mut source_total = None;
        match connector.reach().await {
            Ok(status) => {
                let via = proxy_for(&integration.url)
                    .map(|p| format!(" through the proxy {p} (HTTPS_PROXY)"))
                    .unwrap_or_default();
                steps.push(passed(
                    "reach",
                    format!(
                        "{} answered{via} (HTTP {status} without credentials).",
                        integration.url
                    ),
                ));
                match connector.test_connection().await {
                    Ok(check) => {
                        steps.push(passed("auth", format!("Signed in to {}.", check.system)));
                        let mut read = "The account can read incidents.".to_owned();
                        for note in &check.notes {
                            read.push(' ');
                            read.push_str(note);
                        }
                        steps.push(passed("read", read));
                    }
                    Err(e) if e.code == ErrorCode::Forbidden => {
                        steps.push(passed("auth", "Signed in."));
                        steps.push(failed("read", &e));
                    }
                    Err(e) => {
                        steps.push(failed("auth", &e));
                        steps.push(skipped("read"));
                    }
                }
            }
            Err(e) => {
                steps.push(failed("reach", &e));
                steps.push(skipped("auth"));
                steps.push(skipped("read"));
            }
        }
        if steps.iter().all(|s| s.ok) {
            match connector.source_total(&integration.filters).await {
                Ok(total) => {
                    source_total = total;
                    steps.push(passed(
                        "count",
                        match total {
                            Some(n) => format!("{n} incidents match this integration's filters."),
                            None => "The source gave no count.".to_owned(),
                        },
                    ));
                }
                Err(e) => steps.push(failed("count", &e)),
            }
        } else {
            steps.push(skipped("count"));
        }
        Ok(IntegrationCheck {
            ok: steps.iter().all(|s| s.ok),
            steps,
            source_total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_is_named_without_its_credentials_and_no_proxy_is_honoured() {
        let env = |name: &str| match name {
            "HTTPS_PROXY" => Some("http://user:secret@proxy.corp:3128".to_owned()),
            "NO_PROXY" => Some("localhost,.internal.corp".to_owned()),
            _ => None,
        };
        let shown = proxy_from("https://acme.service-now.com", env).unwrap();
        assert_eq!(shown, "http://proxy.corp:3128");
        assert!(!shown.contains("secret"));
        assert_eq!(proxy_from("https://jira.internal.corp/", env), None);
        assert_eq!(proxy_from("https://acme.service-now.com", |_| None), None);
    }
}
