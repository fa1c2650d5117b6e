//! The integration types exchanged with the UI and the CLI.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

pub use crate::connectors::Filters;

/// The ITSM system an integration talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Servicenow,
    Jira,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Servicenow => "servicenow",
            Kind::Jira => "jira",
        }
    }
    pub fn parse(s: &str) -> Option<Kind> {
        [Kind::Servicenow, Kind::Jira]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Kind::Servicenow => "ServiceNow",
            Kind::Jira => "Jira",
        }
    }
    /// Auth types that the system supports for unattended API access.
    pub fn auth_types(self) -> &'static [AuthType] {
        match self {
            // ServiceNow: Basic, the OAuth password grant of the LiveChat spec, or the client
            // credentials grant where the instance enables it.
            Kind::Servicenow => &[
                AuthType::Basic,
                AuthType::Oauth2,
                AuthType::Oauth2ClientCredentials,
            ],
            // Jira: Basic (Data Center), or an API token (Cloud: email + token; Data Center: PAT).
            Kind::Jira => &[AuthType::Basic, AuthType::Token],
        }
    }
}

/// How the app authenticates to the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthType {
    Basic,
    Token,
    /// The OAuth password grant.
    Oauth2,
    /// The OAuth client credentials grant: no user password stored.
    Oauth2ClientCredentials,
}

impl AuthType {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::Basic => "basic",
            AuthType::Token => "token",
            AuthType::Oauth2 => "oauth2",
            AuthType::Oauth2ClientCredentials => "oauth2_client_credentials",
        }
    }
    pub fn parse(s: &str) -> Option<AuthType> {
        [
            AuthType::Basic,
            AuthType::Token,
            AuthType::Oauth2,
            AuthType::Oauth2ClientCredentials,
        ]
        .into_iter()
        .find(|a| a.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            AuthType::Basic => "Basic auth",
            AuthType::Token => "API token",
            AuthType::Oauth2 => "OAuth 2.0",
            AuthType::Oauth2ClientCredentials => "OAuth 2.0 client credentials",
        }
    }
    /// The secrets this auth type needs.
    pub fn secret_fields(self) -> &'static [SecretField] {
        match self {
            AuthType::Basic => &[SecretField::Password],
            AuthType::Token => &[SecretField::Token],
            AuthType::Oauth2 => &[SecretField::ClientSecret, SecretField::Password],
            AuthType::Oauth2ClientCredentials => &[SecretField::ClientSecret],
        }
    }
    /// Whether the auth type signs in with an OAuth client id.
    pub fn uses_client_id(self) -> bool {
        matches!(self, AuthType::Oauth2 | AuthType::Oauth2ClientCredentials)
    }
}

/// A secret input of an integration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    Password,
    Token,
    ClientSecret,
}

impl SecretField {
    pub const ALL: [SecretField; 3] = [
        SecretField::Password,
        SecretField::Token,
        SecretField::ClientSecret,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            SecretField::Password => "password",
            SecretField::Token => "token",
            SecretField::ClientSecret => "client_secret",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            SecretField::Password => "password",
            SecretField::Token => "token",
            SecretField::ClientSecret => "client secret",
        }
    }
}

/// Outcome of the last sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncStatus {
    Never,
    Success,
    Partial,
    Error,
}

impl SyncStatus {
    pub fn parse(s: &str) -> SyncStatus {
        match s {
            "success" => SyncStatus::Success,
            "partial" => SyncStatus::Partial,
            "error" => SyncStatus::Error,
            _ => SyncStatus::Never,
        }
    }
}

/// The last sync failure, shown when a card is expanded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncError {
    pub code: String,
    pub message: String,
    pub detail: Option<String>,
    pub at: String,
}

/// The last sync's counts as the card shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncSummary {
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
    pub skipped: u64,
    pub total: u64,
    pub version: Option<i64>,
}

/// Whether each secret is set. The UI and the CLI learn nothing more about secrets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SecretFlags {
    pub password: bool,
    pub token: bool,
    pub client_secret: bool,
}

impl SecretFlags {
    pub fn set(&mut self, field: SecretField, value: bool) {
        match field {
            SecretField::Password => self.password = value,
            SecretField::Token => self.token = value,
            SecretField::ClientSecret => self.client_secret = value,
        }
    }
    pub fn get(&self, field: SecretField) -> bool {
        match field {
            SecretField::Password => self.password,
            SecretField::Token => self.token,
            SecretField::ClientSecret => self.client_secret,
        }
    }
}

/// An integration as shown to the UI and printed by the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Integration {
    pub id: i64,
    pub name: String,
    pub kind: Kind,
    pub auth: AuthType,
    pub url: String,
    pub username: Option<String>,
    pub client_id: Option<String>,
    pub enabled: bool,
    /// RFC 3339 time of the last sync that finished (successfully or partially).
    pub last_sync: Option<String>,
    pub last_attempt: Option<String>,
    pub status: SyncStatus,
    pub error: Option<SyncError>,
    pub secrets: SecretFlags,
    /// Counts of the last finished sync, and the integration's incidents in the knowledge base.
    pub last_summary: Option<SyncSummary>,
    /// A sync of this integration is running now.
    pub running: bool,
    /// Automatic sync interval; `None` = manual only. Runs only while enabled.
    pub schedule_minutes: Option<u32>,
    /// What a sync pulls; empty = everything.
    pub filters: Filters,
    /// Requests per rolling hour the app may send to the source; `None` = no budget.
    pub request_budget: Option<u32>,
    /// PEM certificates trusted for this integration besides the OS trust store (a corporate
    /// TLS-inspecting proxy's CA, a self-signed instance). Certificates are public: not secret.
    pub ca_certificates: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

/// Input of the Add dialog / `integrations add`.
#[derive(Debug, Clone, Deserialize)]
pub struct NewIntegration {
    pub name: String,
    pub kind: Kind,
    pub auth: AuthType,
    pub url: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub token: Option<SecretString>,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub schedule_minutes: Option<u32>,
    #[serde(default)]
    pub filters: Option<Filters>,
    /// Requests per hour the app may send to the source (pacing instead of rate limits).
    #[serde(default)]
    pub request_budget: Option<u32>,
    /// PEM certificates to trust besides the OS store (`--ca-file`).
    #[serde(default)]
    pub ca_certificates: Option<String>,
    /// The user confirmed an `http://` URL on a host other than this machine, where the
    /// credentials and incidents travel unencrypted. Without it such a URL is refused.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

/// Input of Edit / `integrations edit`: absent fields keep their value; a secret left absent (or
/// null) keeps the stored one, a value replaces it, except that a URL on another origin
/// (scheme, host, port) needs every secret again: a stored one is never sent to a host it was
/// not entered for.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IntegrationPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub auth: Option<AuthType>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub client_id: Option<String>,
    #[serde(default)]
    pub password: Option<SecretString>,
    #[serde(default)]
    pub token: Option<SecretString>,
    #[serde(default)]
    pub client_secret: Option<SecretString>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// `Some(0)` turns automatic sync off.
    #[serde(default)]
    pub schedule_minutes: Option<u32>,
    /// Replaces every filter when present.
    #[serde(default)]
    pub filters: Option<Filters>,
    /// `Some(0)` removes the budget.
    #[serde(default)]
    pub request_budget: Option<u32>,
    /// `Some("")` removes the certificates.
    #[serde(default)]
    pub ca_certificates: Option<String>,
    /// As for [`NewIntegration::allow_insecure_http`]; needed when the edit changes the URL to
    /// an unencrypted one on another machine.
    #[serde(default)]
    pub allow_insecure_http: bool,
}

impl NewIntegration {
    pub fn secret(&self, f: SecretField) -> Option<&SecretString> {
        match f {
            SecretField::Password => self.password.as_ref(),
            SecretField::Token => self.token.as_ref(),
            SecretField::ClientSecret => self.client_secret.as_ref(),
        }
    }
}

impl IntegrationPatch {
    pub fn secret(&self, f: SecretField) -> Option<&SecretString> {
        match f {
            SecretField::Password => self.password.as_ref(),
            SecretField::Token => self.token.as_ref(),
            SecretField::ClientSecret => self.client_secret.as_ref(),
        }
    }
}
