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
    ("ServiceNow Basic, all roles", "admin / admin"),
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
}
