//! Simulated accounts, their roles and time zones, and the credential checks of each API.
//!
//! Secrets are compared in constant time, like any local server that authenticates requests
//! should, even though these are well-known demo values.

use axum::http::{header, HeaderMap};
use base64::Engine;
use subtle::ConstantTimeEq;

use crate::tz::Zone;

/// What the CLI prints after `listening on …`.
pub const DEMO_CREDENTIALS: &[(&str, &str)] = &[
    (
        "ServiceNow Basic, all roles (also the /sim control API)",
        "admin / admin",
    ),
    (
        "ServiceNow Basic, read-only service account (incident, sys_user)",
        "svc.readonly / readonly",
    ),
    (
        "ServiceNow Basic, no roles (403 on incident)",
        "no.access / no.access",
    ),
    (
        "ServiceNow OAuth client (password grant with the users above)",
        "demo-client / demo-secret",
    ),
    (
        "Jira Cloud, Basic email + API token",
        "demo@example.com / demo-token",
    ),
    (
        "Jira Data Center, Bearer PAT (base URL <sim>/dc)",
        "demo-pat",
    ),
    ("Virtual Agent API, `token` header", "demo-va-token"),
];

/// A ServiceNow user who can sign in.
#[derive(Debug)]
pub struct Account {
    pub user_name: &'static str,
    password: &'static str,
    pub roles: &'static [&'static str],
    /// Display values and `gs.dateGenerate` use this zone.
    pub zone: &'static str,
    /// Basic auth is refused with `X-MFA_TOKEN: invalid`, as on instances enforcing MFA.
    pub mfa_enforced: bool,
}

pub const ACCOUNTS: &[Account] = &[
    Account {
        user_name: "admin",
        password: "admin",
        roles: &["admin"],
        zone: "America/Los_Angeles",
        mfa_enforced: false,
    },
    Account {
        user_name: "svc.readonly",
        password: "readonly",
        roles: &["snc_read_only", "itil"],
        zone: "GMT",
        mfa_enforced: false,
    },
    Account {
        user_name: "no.access",
        password: "no.access",
        roles: &[],
        zone: "Europe/Berlin",
        mfa_enforced: false,
    },
    Account {
        user_name: "mfa.user",
        password: "mfa.user",
        roles: &["admin"],
        zone: "GMT",
        mfa_enforced: true,
    },
];

pub const OAUTH_CLIENT_ID: &str = "demo-client";
pub const OAUTH_CLIENT_SECRET: &str = "demo-secret";
pub const JIRA_EMAIL: &str = "demo@example.com";
pub const JIRA_API_TOKEN: &str = "demo-token";
pub const JIRA_PAT: &str = "demo-pat";
pub const VA_TOKEN: &str = "demo-va-token";

impl Account {
    pub fn zone(&self) -> Zone {
        Zone::named(self.zone)
    }

    /// Table-level read ACL.
    pub fn can_read(&self, table: &str) -> bool {
        if self.roles.contains(&"admin") {
            return true;
        }
        if self.roles.contains(&"snc_read_only") {
            return matches!(table, "incident" | "sys_user");
        }
        false
    }

    pub fn named(user_name: &str) -> Option<&'static Account> {
        ACCOUNTS.iter().find(|a| a.user_name == user_name)
    }

    /// Checks a user name and password (no MFA consideration).
    pub fn check(user_name: &str, password: &str) -> Option<&'static Account> {
        Account::named(user_name).filter(|a| secret_eq(a.password, password))
    }
}

/// Credentials found on a request.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    Basic(String, String),
    Bearer(String),
    None,
}

/// Reads the `Authorization` header.
pub fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Credentials::None;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(rest.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        if let Some((user, password)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
            return Credentials::Basic(user.to_owned(), password.to_owned());
        }
    } else if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer(rest.trim().to_owned());
    }
    Credentials::None
}

/// Why the `/sim` control API refused a request.
#[derive(Debug, PartialEq, Eq)]
pub enum ControlRefusal {
    /// No Basic credentials, wrong ones, or an account whose Basic sign-in is refused (MFA).
    Unauthenticated,
    /// A valid account without the `admin` role (its user name).
    NotAdmin(&'static str),
}

/// The control API's check: HTTP Basic credentials of an account with the `admin` role.
///
/// The password is compared in constant time ([`Account::check`]). Bearer tokens are not
/// accepted, and an MFA-enforced account is refused as its Basic sign-in is on the Table API.
pub fn control_access(headers: &HeaderMap) -> Result<&'static Account, ControlRefusal> {
    let Credentials::Basic(user, password) = credentials(headers) else {
        return Err(ControlRefusal::Unauthenticated);
    };
    match Account::check(&user, &password) {
        Some(account) if account.mfa_enforced => Err(ControlRefusal::Unauthenticated),
        Some(account) if account.roles.contains(&"admin") => Ok(account),
        Some(account) => Err(ControlRefusal::NotAdmin(account.user_name)),
        None => Err(ControlRefusal::Unauthenticated),
    }
}

/// Constant-time string equality.
pub fn secret_eq(expected: &str, given: &str) -> bool {
    expected.as_bytes().ct_eq(given.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_decide_table_reads() {
        let admin = Account::named("admin").unwrap();
        let readonly = Account::named("svc.readonly").unwrap();
        let none = Account::named("no.access").unwrap();
        assert!(admin.can_read("sys_journal_field"));
        assert!(readonly.can_read("incident") && readonly.can_read("sys_user"));
        assert!(!readonly.can_read("sys_journal_field"));
        assert!(!none.can_read("incident"));
    }

    #[test]
    fn basic_and_bearer_headers_parse() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            "Basic YWRtaW46YWRtaW4=".parse().unwrap(),
        );
        assert_eq!(
            credentials(&headers),
            Credentials::Basic("admin".into(), "admin".into())
        );
        headers.insert(header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(credentials(&headers), Credentials::Bearer("abc".into()));
        assert!(Account::check("admin", "admin").is_some());
        assert!(Account::check("admin", "wrong").is_none());
    }

    #[test]
    fn control_access_needs_a_basic_admin() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(header::AUTHORIZATION, value.parse().unwrap());
            control_access(&headers)
        };
        let basic = |user: &str, password: &str| {
            with(&format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
            ))
        };
        assert_eq!(basic("admin", "admin").unwrap().user_name, "admin");
        assert_eq!(
            basic("admin", "wrong").err(),
            Some(ControlRefusal::Unauthenticated)
        );
        assert_eq!(
            basic("svc.readonly", "readonly").err(),
            Some(ControlRefusal::NotAdmin("svc.readonly"))
        );
        assert_eq!(
            basic("no.access", "no.access").err(),
            Some(ControlRefusal::NotAdmin("no.access"))
        );
        assert_eq!(
            basic("mfa.user", "mfa.user").err(),
            Some(ControlRefusal::Unauthenticated)
        );
        assert_eq!(
            with("Bearer admin").err(),
            Some(ControlRefusal::Unauthenticated)
        );
        assert_eq!(
            control_access(&HeaderMap::new()).err(),
            Some(ControlRefusal::Unauthenticated)
        );
    }
}
