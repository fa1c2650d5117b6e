//! Validation of an integration before it is saved: every problem is reported at once, keyed by
//! the input it belongs to.

use std::collections::BTreeMap;

use super::model::{AuthType, Filters, Kind, NewIntegration, SecretField, SecretFlags};
use crate::connectors::trust::{pem_certificates, PemProblem};
use crate::error::{CoreError, CoreResult, ErrorCode};

/// The values an integration will have once saved (new input, or stored values merged with an
/// edit), normalised by [`validate`].
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub name: String,
    pub kind: Kind,
    pub auth: AuthType,
    pub url: String,
    pub username: Option<String>,
    pub client_id: Option<String>,
    pub enabled: bool,
    pub schedule_minutes: Option<u32>,
    pub filters: Filters,
    pub request_budget: Option<u32>,
    pub ca_certificates: Option<String>,
    /// Which secrets will be set after saving (typed now, or already stored).
    pub secrets: SecretFlags,
    /// An `http://` URL on another machine is accepted: the user confirmed it, or an edit
    /// keeps the origin that was accepted before.
    pub allow_insecure_http: bool,
}

impl Candidate {
    /// The candidate of new input, with `secrets` saying which secrets it will have.
    pub(crate) fn from_new(input: &NewIntegration, secrets: SecretFlags) -> Candidate {
        Candidate {
            name: input.name.clone(),
            kind: input.kind,
            auth: input.auth,
            url: input.url.clone(),
            username: input.username.clone(),
            client_id: input.client_id.clone(),
            enabled: input.enabled.unwrap_or(true),
            schedule_minutes: input.schedule_minutes.filter(|m| *m > 0),
            filters: input.filters.clone().unwrap_or_default(),
            request_budget: input.request_budget.filter(|b| *b > 0),
            ca_certificates: input.ca_certificates.clone(),
            secrets,
            allow_insecure_http: input.allow_insecure_http,
        }
    }
}

const MAX_NAME: usize = 80;
const MAX_TEXT: usize = 256;
/// Automatic sync bounds: more often than every 5 minutes only burns the source's rate limit.
const MIN_SCHEDULE: u32 = 5;
const MAX_SCHEDULE: u32 = 10_080;
/// Request budget bounds per hour: below 10 a sync of any size would take days.
const MIN_BUDGET: u32 = 10;
const MAX_BUDGET: u32 = 1_000_000;

/// Normalises `c` (trimmed text, empty text → none, URL without trailing slash) and checks it.
/// `name_taken` tells whether another integration already uses the (normalised) name.
pub(crate) fn validate(
    c: &mut Candidate,
    name_taken: impl Fn(&str) -> CoreResult<bool>,
) -> CoreResult<()> {
    let mut errors: BTreeMap<String, String> = BTreeMap::new();
    let mut err = |field: &str, msg: String| {
        errors.entry(field.to_string()).or_insert(msg);
    };

    c.name = c.name.trim().to_string();
    c.username = trimmed(c.username.take());
    c.client_id = trimmed(c.client_id.take());
    c.url = c.url.trim().trim_end_matches('/').to_string();

    if c.name.is_empty() {
        err(
            "name",
            "Enter a service name, e.g. \"Production ServiceNow\".".into(),
        );
    } else if c.name.chars().count() > MAX_NAME {
        err("name", format!("Use at most {MAX_NAME} characters."));
    } else if c.name.chars().any(char::is_control) {
        err("name", "The name cannot contain control characters.".into());
    }

    let auth_supported = c.kind.auth_types().contains(&c.auth);
    if !auth_supported {
        let allowed: Vec<&str> = c.kind.auth_types().iter().map(|a| a.label()).collect();
        err(
            "auth",
            format!(
                "{} integrations support {}. Choose one of those.",
                c.kind.label(),
                allowed.join(" or ")
            ),
        );
    }

    if let Some(msg) = url_problem(&c.url, c.kind, c.allow_insecure_http) {
        err("url", msg);
    }

    if c.schedule_minutes
        .is_some_and(|m| !(MIN_SCHEDULE..=MAX_SCHEDULE).contains(&m))
    {
        err(
            "schedule_minutes",
            format!("Choose an interval from {MIN_SCHEDULE} minutes to one week ({MAX_SCHEDULE} minutes), or turn automatic sync off."),
        );
    }

    check_filters(&mut c.filters, &mut err);

    if c.request_budget
        .is_some_and(|b| !(MIN_BUDGET..=MAX_BUDGET).contains(&b))
    {
        err(
            "request_budget",
            format!("Choose a budget from {MIN_BUDGET} to {MAX_BUDGET} requests per hour, or none. Ask the instance admin for its rate limit rule (e.g. 500 per hour)."),
        );
    }
    c.ca_certificates = c
        .ca_certificates
        .take()
        .map(|pem| pem.trim().to_owned())
        .filter(|pem| !pem.is_empty());
    if let Some(pem) = &c.ca_certificates {
        if let Err(why) = check_pem(pem) {
            err("ca_certificates", why.message().to_owned());
        }
    }

    for (field, value) in [("username", &c.username), ("client_id", &c.client_id)] {
        if value
            .as_deref()
            .is_some_and(|v| v.chars().count() > MAX_TEXT)
        {
            err(field, format!("Use at most {MAX_TEXT} characters."));
        }
    }

    // With an unsupported auth type, asking for its fields would only add noise.
    match c.auth {
        _ if !auth_supported => {}
        AuthType::Basic => {
            if c.username.is_none() {
                err(
                    "username",
                    "Enter the username of the service account.".into(),
                );
            }
        }
        // A username/email means Basic email:token (Jira Cloud); none means a Bearer personal
        // access token (Jira Data Center).
        AuthType::Token => {}
        AuthType::Oauth2 | AuthType::Oauth2ClientCredentials => {
            if c.client_id.is_none() {
                err(
                    "client_id",
                    "Enter the OAuth client ID from the instance's Application Registry.".into(),
                );
            }
            if c.auth == AuthType::Oauth2 && c.username.is_none() {
                err(
                    "username",
                    "Enter the username the password grant signs in as.".into(),
                );
            }
        }
    }
    // Clear inputs that the chosen auth type does not use, so nothing stale is stored.
    if !c.auth.uses_client_id() {
        c.client_id = None;
    }
    if c.auth == AuthType::Oauth2ClientCredentials {
        c.username = None;
    }

    for field in c.auth.secret_fields() {
        if auth_supported && !c.secrets.get(*field) {
            err(field.as_str(), format!("Enter the {}.", field.label()));
        }
    }

    if !errors.contains_key("name") && !c.name.is_empty() && name_taken(&c.name)? {
        let mut e = CoreError::new(
            ErrorCode::DuplicateName,
            format!(
                "An integration named \"{}\" exists already. Choose another name.",
                c.name
            ),
        )
        .with_field("name", "This name is taken by another integration.");
        for (k, v) in errors {
            e = e.with_field(&k, v);
        }
        return Err(e);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::invalid(errors))
    }
}

/// How many certificates a PEM bundle holds, or why it is not one.
pub fn check_pem(pem: &str) -> Result<usize, PemProblem> {
    pem_certificates(pem).map(|certs| certs.len())
}

/// Trims filter values, drops empty ones, and checks dates and the raw query.
fn check_filters(f: &mut Filters, err: &mut impl FnMut(&str, String)) {
    for list in [&mut f.priority, &mut f.category, &mut f.state] {
        *list = list
            .iter()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect();
    }
    f.updated_from = trimmed(f.updated_from.take());
    f.updated_to = trimmed(f.updated_to.take());
    f.raw_query = trimmed(f.raw_query.take());
    let parse = |v: &str| {
        time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
            .map(|t| t.date())
            .or_else(|_| {
                time::Date::parse(v, time::macros::format_description!("[year]-[month]-[day]"))
            })
            .ok()
    };
    let from = f.updated_from.as_deref().map(|v| (v, parse(v)));
    let to = f.updated_to.as_deref().map(|v| (v, parse(v)));
    for (key, value) in [("filters.updated_from", from), ("filters.updated_to", to)] {
        if let Some((_, None)) = value {
            err(
                key,
                "Use a date like 2026-01-31 (or an RFC 3339 time).".into(),
            );
        }
    }
    if let (Some((_, Some(a))), Some((_, Some(b)))) = (from, to) {
        if a > b {
            err(
                "filters.updated_to",
                "The end date is before the start date.".into(),
            );
        }
    }
    if let Some(q) = &f.raw_query {
        if q.chars().count() > 2000 {
            err(
                "filters.raw_query",
                "Keep the query under 2,000 characters.".into(),
            );
        } else if q.contains('\n') {
            err("filters.raw_query", "Write the query on one line.".into());
        }
    }
}

fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

fn url_problem(raw: &str, kind: Kind, allow_insecure_http: bool) -> Option<String> {
    let example = match kind {
        Kind::Servicenow => "https://company.service-now.com",
        Kind::Jira => "https://company.atlassian.net",
    };
    if raw.is_empty() {
        return Some(format!("Enter the base URL, e.g. {example}."));
    }
    let url = match url::Url::parse(raw) {
        Ok(u) => u,
        Err(_) => {
            return Some(format!(
                "This is not a valid URL. Use the full address, e.g. {example}."
            ))
        }
    };
    if !matches!(url.scheme(), "http" | "https") {
        return Some(format!(
            "Use an http:// or https:// address, e.g. {example}."
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Some(format!("The URL needs a host name, e.g. {example}."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in a URL end up in logs and history; they belong in their own fields.
        return Some(
            "Remove the user name and password from the URL and enter them in their own fields."
                .into(),
        );
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Some(format!(
            "Enter only the base address, without ?query or #fragment, e.g. {example}."
        ));
    }
    if url.scheme() == "http" && !is_loopback(&url) && !allow_insecure_http {
        return Some(format!(
            "http:// would send the credentials and incidents unencrypted: use the https:// \
             address, e.g. {example}. Only this machine (localhost, 127.0.0.1, [::1]) may use \
             http:// without confirming; to accept the risk anyway, confirm the insecure \
             connection (CLI: --allow-insecure-http)."
        ));
    }
    None
}

/// Whether the URL names this machine, where unencrypted traffic never crosses a network.
/// Only the literal name `localhost`: another name ending in `.localhost` is resolved by
/// whatever DNS the machine uses.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether two URLs share scheme, host and port; unparsable URLs share nothing.
pub fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a.trim()), url::Url::parse(b.trim())) {
        (Ok(a), Ok(b)) => {
            let origin = a.origin();
            origin.is_tuple() && origin == b.origin()
        }
        _ => false,
    }
}

/// The inputs to fix when an edit moves an integration to another origin without the secrets
/// being typed again: stored secrets were entered for the old host and are never sent to
/// another, whoever changed the URL. Empty when the origin stays (a path or letter-case
/// change), the new URL is invalid (reported by [`validate`]), or every secret was typed.
pub(crate) fn secrets_for_new_origin(
    old_url: &str,
    new_url: &str,
    auth: AuthType,
    typed: impl Fn(SecretField) -> bool,
) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    let Ok(new) = url::Url::parse(new_url.trim()) else {
        return fields;
    };
    if same_origin(old_url, new_url) {
        return fields;
    }
    let missing: Vec<SecretField> = auth
        .secret_fields()
        .iter()
        .copied()
        .filter(|f| !typed(*f))
        .collect();
    if missing.is_empty() {
        return fields;
    }
    let names: Vec<&str> = missing.iter().map(|f| f.label()).collect();
    fields.insert(
        "url".to_owned(),
        format!(
            "The URL now points at another host ({}): enter the credentials again for it ({}). \
             Stored credentials are only sent to the host they were entered for.",
            new.origin().ascii_serialization(),
            names.join(" and ")
        ),
    );
    for field in missing {
        fields.insert(
            field.as_str().to_owned(),
            format!("Enter the {} again for the new host.", field.label()),
        );
    }
    fields
}
