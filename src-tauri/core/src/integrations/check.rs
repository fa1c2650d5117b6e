//! The connection check of an integration (`supportbot integrations check NAME`, the card's
//! "Test connection") or of the add/edit dialog's unsaved values: step by step, what a sync
//! would need, each failed step with advice a support admin can act on.
//!
//! - `reach`: DNS, TCP and TLS: one request without credentials gets any HTTP answer (through
//!   the `HTTPS_PROXY` in force, which the detail names);
//! - `auth`: the stored credentials sign in;
//! - `read`: the account can read the incident table / search issues;
//! - `count`: how many incidents the source counts for the integration's filters
//!   (`source_total`).
//!
//! A step that cannot run because an earlier one failed is reported as not checked.

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::validate::{same_origin, validate, Candidate};
use super::{Filters, NewIntegration, SecretField, SecretFlags};
use crate::connectors::{client_trusting, Connector, ConnectorOptions, Credentials, RetryPolicy};
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
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    let var = |names: &[&'static str]| -> Option<(&'static str, String)> {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v)))
    };
    let bypass = var(&["NO_PROXY", "no_proxy"])
        .map(|(_, v)| v)
        .unwrap_or_default();
    let bypassed = bypass.split(',').map(str::trim).any(|b| {
        !b.is_empty()
            && (b == "*"
                || host == b.trim_start_matches('.')
                || host.ends_with(&format!(".{}", b.trim_start_matches('.'))))
    });
    // The variables the HTTP client reads for this scheme (an http:// URL uses HTTP_PROXY).
    let (name, proxy) = if parsed.scheme() == "http" {
        var(&["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"])?
    } else {
        var(&["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"])?
    };
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
        .unwrap_or_else(|_| "(unparsable)".to_owned());
    (!bypassed).then(|| format!("{shown} ({name})"))
}

impl Core {
    /// Checks integration `id` step by step (see the module docs). Permission:
    /// `integration.sync` (it uses the stored credentials, as a sync does).
    pub async fn check_integration(&self, actor: &Actor, id: i64) -> CoreResult<IntegrationCheck> {
        actor.require(Permission::IntegrationSync)?;
        let integration = self.integration(actor, id)?;
        let connector = self.connector_for(&integration, check_options())?;
        let target = Target {
            url: &integration.url,
            filters: &integration.filters,
            custom_ca: integration.ca_certificates.is_some(),
        };
        Ok(run_steps(connector, target).await)
    }

    /// Checks what the add/edit dialog holds before it is saved: `input` with its typed
    /// secrets; when editing (`id`), a secret left empty is the stored one, but only while the
    /// URL keeps the stored origin (a stored secret never goes to a host it was not entered
    /// for). Invalid input fails with `validation` like saving would. Nothing is stored.
    /// Permission: `integration.create` (new) or `integration.edit` (existing).
    pub async fn check_integration_draft(
        &self,
        actor: &Actor,
        id: Option<i64>,
        input: NewIntegration,
    ) -> CoreResult<IntegrationCheck> {
        let stored = match id {
            Some(id) => {
                actor.require(Permission::IntegrationEdit)?;
                Some(self.integration(actor, id)?)
            }
            None => {
                actor.require(Permission::IntegrationCreate)?;
                None
            }
        };
        let same_host = stored
            .as_ref()
            .filter(|s| same_origin(&s.url, &input.url) && s.kind == input.kind);
        let typed = |f: SecretField| {
            input
                .secret(f)
                .filter(|v| !v.expose_secret().is_empty())
                .cloned()
        };
        let secret = |f: SecretField| -> CoreResult<Option<SecretString>> {
            match (typed(f), same_host) {
                (Some(v), _) => Ok(Some(v)),
                (None, Some(s)) => self.integration_secret(s.id, f),
                (None, None) => Ok(None),
            }
        };
        let mut flags = SecretFlags::default();
        for f in SecretField::ALL {
            flags.set(f, secret(f)?.is_some());
        }
        let mut c = Candidate::from_new(&input, flags);
        validate(&mut c, |_| Ok(false))?;
        let credentials = Credentials {
            username: c.username.clone(),
            password: secret(SecretField::Password)?,
            token: secret(SecretField::Token)?,
            client_id: c.client_id.clone(),
            client_secret: secret(SecretField::ClientSecret)?,
        };
        let mut options = check_options();
        if let Some(pem) = &c.ca_certificates {
            options.client = Some(client_trusting(Some(pem))?);
        }
        let connector = Connector::new(c.kind, c.auth, &c.url, credentials, options)?;
        let target = Target {
            url: &c.url,
            filters: &c.filters,
            custom_ca: c.ca_certificates.is_some(),
        };
        Ok(run_steps(connector, target).await)
    }
}

/// A person waits for the check: it gives up quickly rather than retrying for minutes.
fn check_options() -> ConnectorOptions {
    ConnectorOptions {
        retry: RetryPolicy::quick_check(),
        ..ConnectorOptions::default()
    }
}

/// What a check is about, for its messages and its count.
struct Target<'a> {
    url: &'a str,
    filters: &'a Filters,
    custom_ca: bool,
}

/// The steps, in order, each after the one before it passed.
async fn run_steps(mut connector: Connector, target: Target<'_>) -> IntegrationCheck {
    let mut steps = Vec::new();
    let mut source_total = None;
    match connector.reach().await {
        Ok(status) => {
            let mut via = proxy_for(target.url)
                .map(|p| format!(" through the proxy {p}"))
                .unwrap_or_default();
            if target.custom_ca {
                via.push_str(", trusting the integration's CA certificates,");
            }
            steps.push(passed(
                "reach",
                format!(
                    "{} answered{via} (HTTP {status} without credentials).",
                    target.url
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
        match connector.source_total(target.filters).await {
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
    IntegrationCheck {
        ok: steps.iter().all(|s| s.ok),
        steps,
        source_total,
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
        assert_eq!(shown, "http://proxy.corp:3128 (HTTPS_PROXY)");
        assert!(!shown.contains("secret"));
        assert_eq!(proxy_from("https://jira.internal.corp/", env), None);
        assert_eq!(proxy_from("https://acme.service-now.com", |_| None), None);
        // An http:// URL goes through HTTP_PROXY, as the HTTP client does it.
        assert_eq!(proxy_from("http://jira.lab:8080", env), None);
        let http = |name: &str| match name {
            "http_proxy" => Some("http://squid.lab:3128".to_owned()),
            "HTTPS_PROXY" => Some("http://proxy.corp:3128".to_owned()),
            _ => None,
        };
        assert_eq!(
            proxy_from("http://jira.lab:8080", http).as_deref(),
            Some("http://squid.lab:3128 (http_proxy)")
        );
    }
}
