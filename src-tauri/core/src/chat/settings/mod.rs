//! Settings > Chat: mode, the ServiceNow instance and credentials for the VA API, the webhook.
//!
//! Non-secret values are one JSON document in the `settings` table (`chat_settings`); secrets
//! go to the vault (scope `chat`, owner 0) like integration credentials, and only booleans say
//! whether they are set. The environment variables of the LiveChat handoff spec
//! (`SERVICENOW_*`, `WEBHOOK_SECRET`, plus `SERVICENOW_BOT_ID`) override stored values when set
//! and non-empty; `from_env` lists which fields, `env_vars` which variables. With
//! `SERVICENOW_INSTANCE` set and no mode ever saved, the mode is real: the variables alone
//! configure a real instance. Every save bumps `chat_settings_rev`, so a running chat console
//! rebuilds its VA client.

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::store::Mode;
use super::va::VaAuth;
use crate::access::{Actor, Permission};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::secrets::SecretRef;
use crate::store;
use crate::Core;

mod rehome;
use rehome::TypedSecrets;

const SETTINGS_KEY: &str = "chat_settings";
const REVISION_KEY: &str = "chat_settings_rev";
const SECRET_SCOPE: &str = "chat";
/// Default wait for an agent before asking "keep waiting?".
pub const DEFAULT_WAIT_TIMEOUT_S: u32 = 180;

/// How the app authenticates to the VA API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatAuth {
    #[default]
    Oauth2,
    Basic,
    Token,
}

/// Which secrets are set (never their values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ChatSecretFlags {
    pub client_secret: bool,
    pub password: bool,
    pub va_token: bool,
    pub webhook_secret: bool,
}

/// Settings > Chat as the UI shows it: the values (environment overrides applied), which
/// secrets are set, and which fields the environment decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatSettings {
    #[serde(flatten)]
    pub values: ChatValues,
    pub secrets: ChatSecretFlags,
    /// Fields whose value comes from an environment variable (never stored by a save).
    pub from_env: Vec<String>,
    /// The variables in force, by field (`instance_url` → `SERVICENOW_INSTANCE`).
    pub env_vars: BTreeMap<String, String>,
}

/// A change to Settings > Chat: `None` keeps a value. Secrets: `None` keeps, `Some("")`
/// removes, `Some(value)` replaces.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ChatSettingsPatch {
    pub mode: Option<Mode>,
    pub instance_url: Option<String>,
    pub auth: Option<ChatAuth>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub bot_id: Option<String>,
    pub email: Option<String>,
    pub enterprise_id: Option<String>,
    pub webhook_port: Option<u16>,
    pub tunnel: Option<bool>,
    pub public_hosts: Option<Vec<String>>,
    pub wait_timeout_s: Option<u32>,
    pub attachment_days: Option<u32>,
    pub client_secret: Option<SecretString>,
    pub password: Option<SecretString>,
    pub va_token: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
}

/// The non-secret settings, as stored (one JSON document) and as shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ChatValues {
    pub mode: Mode,
    pub instance_url: Option<String>,
    pub auth: ChatAuth,
    pub client_id: Option<String>,
    pub username: Option<String>,
    /// `nowBotId`, when the instance has several secondary bots.
    pub bot_id: Option<String>,
    /// Sent as `emailId` (account linking on the instance).
    pub email: Option<String>,
    /// Sent as `enterpriseId` when set (the VA reference's examples send "ServiceNow").
    pub enterprise_id: Option<String>,
    /// 0 picks a free port at each start.
    pub webhook_port: u16,
    /// Accept the public host names below in `Host` (a tunnel in front of the webhook).
    pub tunnel: bool,
    pub public_hosts: Vec<String>,
    pub wait_timeout_s: u32,
    /// Days a sent attachment stays available before it is deleted.
    pub attachment_days: u32,
}

impl Default for ChatValues {
    fn default() -> Self {
        ChatValues {
            mode: Mode::Simulated,
            instance_url: None,
            auth: ChatAuth::Oauth2,
            client_id: None,
            username: None,
            bot_id: None,
            email: None,
            enterprise_id: None,
            webhook_port: 0,
            tunnel: false,
            public_hosts: Vec::new(),
            wait_timeout_s: DEFAULT_WAIT_TIMEOUT_S,
            attachment_days: super::attachments::DEFAULT_KEEP_DAYS,
        }
    }
}

/// The secret fields, with the environment variable that overrides each.
const SECRET_FIELDS: [(&str, Option<&str>); 4] = [
    ("client_secret", Some("SERVICENOW_CLIENT_SECRET")),
    ("password", Some("SERVICENOW_PASSWORD")),
    ("va_token", None),
    ("webhook_secret", Some("WEBHOOK_SECRET")),
];

fn secret_ref(field: &str) -> SecretRef<'_> {
    SecretRef {
        scope: SECRET_SCOPE,
        owner_id: 0,
        field,
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Everything the chat service needs, secrets included (never sent to the UI or logs).
#[derive(Debug, Clone)]
pub struct ResolvedChat {
    /// Environment overrides applied.
    pub values: ChatValues,
    pub client_secret: Option<SecretString>,
    pub password: Option<SecretString>,
    pub va_token: Option<SecretString>,
    pub webhook_secret: Option<SecretString>,
    /// Changes whenever the settings are saved.
    pub revision: u64,
}

impl ChatValues {
    /// The public host names the webhook accepts besides 127.0.0.1: none unless tunnel mode.
    pub fn tunnel_hosts(&self) -> &[String] {
        if self.tunnel {
            &self.public_hosts
        } else {
            &[]
        }
    }
}

impl ResolvedChat {
    /// The VA credentials for real mode, or a validation error naming what is missing.
    pub fn va_auth(&self) -> CoreResult<VaAuth> {
        let missing = |field: &str, what: &str| {
            CoreError::new(
                ErrorCode::Validation,
                format!("Real chat mode needs the {what}: set it in Settings > Chat or the environment."),
            )
            .with_field(field, format!("Enter the {what}."))
        };
        Ok(match self.values.auth {
            ChatAuth::Token => VaAuth::Token(
                self.va_token
                    .clone()
                    .ok_or_else(|| missing("va_token", "VA API token"))?,
            ),
            ChatAuth::Basic => VaAuth::Basic {
                username: self
                    .values
                    .username
                    .clone()
                    .ok_or_else(|| missing("username", "username"))?,
                password: self
                    .password
                    .clone()
                    .ok_or_else(|| missing("password", "password"))?,
            },
            ChatAuth::Oauth2 => VaAuth::OAuth {
                client_id: self
                    .values
                    .client_id
                    .clone()
                    .ok_or_else(|| missing("client_id", "OAuth client id"))?,
                client_secret: self
                    .client_secret
                    .clone()
                    .ok_or_else(|| missing("client_secret", "OAuth client secret"))?,
                username: self
                    .values
                    .username
                    .clone()
                    .ok_or_else(|| missing("username", "username"))?,
                password: self
                    .password
                    .clone()
                    .ok_or_else(|| missing("password", "password"))?,
            },
        })
    }
}

/// The stored values, and whether a mode was ever saved.
fn load(conn: &rusqlite::Connection) -> CoreResult<(ChatValues, bool)> {
    let raw: Option<serde_json::Value> =
        store::get_setting(conn, SETTINGS_KEY)?.and_then(|raw| serde_json::from_str(&raw).ok());
    let mode_saved = raw.as_ref().is_some_and(|r| r.get("mode").is_some());
    let values = raw
        .and_then(|r| serde_json::from_value(r).ok())
        .unwrap_or_default();
    Ok((values, mode_saved))
}

/// A text field of [`ChatValues`].
type TextField = fn(&mut ChatValues) -> &mut Option<String>;

/// The fields the LiveChat handoff spec's environment variables override (and
/// `SERVICENOW_BOT_ID`, the `nowBotId` of the VA reference), with their variables.
const ENV_FIELDS: [(&str, &str, TextField); 4] = [
    ("instance_url", "SERVICENOW_INSTANCE", |v| {
        &mut v.instance_url
    }),
    ("client_id", "SERVICENOW_CLIENT_ID", |v| &mut v.client_id),
    ("username", "SERVICENOW_USERNAME", |v| &mut v.username),
    ("bot_id", "SERVICENOW_BOT_ID", |v| &mut v.bot_id),
];

/// The variable that set a field, if one did.
pub(crate) fn env_var_of(field: &str) -> Option<&'static str> {
    ENV_FIELDS
        .iter()
        .map(|(f, var, _)| (*f, *var))
        .chain(
            SECRET_FIELDS
                .iter()
                .filter_map(|(f, var)| var.map(|v| (*f, v))),
        )
        .find(|(f, var)| *f == field && env(var).is_some())
        .map(|(_, var)| var)
}

/// `values` with the environment's overrides applied, and the fields they replaced. A mode
/// never saved follows `SERVICENOW_INSTANCE`: set, the chat talks to that instance.
fn with_env((mut values, mode_saved): (ChatValues, bool)) -> (ChatValues, Vec<String>) {
    let mut from_env = Vec::new();
    for (field, var, slot) in ENV_FIELDS {
        if let Some(v) = env(var) {
            from_env.push(field.to_owned());
            *slot(&mut values) = Some(v);
        }
    }
    if !mode_saved && env("SERVICENOW_INSTANCE").is_some() {
        values.mode = Mode::Real;
        from_env.push("mode".to_owned());
    }
    (values, from_env)
}

/// Whether an instance URL may be used: https, or http to this machine only (a local test
/// instance or tunnel end); anything else would send credentials in clear.
pub(crate) fn instance_url_problem(url: &str) -> Option<String> {
    let Ok(parsed) = url::Url::parse(url) else {
        return Some("Enter a URL such as https://company.service-now.com.".into());
    };
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => return Some("Enter a URL such as https://company.service-now.com.".into()),
    };
    match parsed.scheme() {
        "https" => None,
        "http" if loopback => None,
        "http" => Some(
            "Use https:// for the instance: http:// is accepted only for this machine (localhost)."
                .into(),
        ),
        _ => Some("Enter a URL such as https://company.service-now.com.".into()),
    }
}

fn clean(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

impl Core {
    /// Settings > Chat. Permission: `integration.view`.
    pub fn chat_settings(&self, actor: &Actor) -> CoreResult<ChatSettings> {
        actor.require(Permission::IntegrationView)?;
        let conn = self.db().conn();
        let (values, mut from_env) = with_env(load(&conn)?);
        let mut flags = BTreeMap::new();
        for (field, var) in SECRET_FIELDS {
            let in_env = var.is_some_and(|v| env(v).is_some());
            if in_env {
                from_env.push(field.to_owned());
            }
            flags.insert(
                field,
                in_env || self.vault().is_set(&conn, secret_ref(field))?,
            );
        }
        Ok(ChatSettings {
            values,
            secrets: ChatSecretFlags {
                client_secret: flags["client_secret"],
                password: flags["password"],
                va_token: flags["va_token"],
                webhook_secret: flags["webhook_secret"],
            },
            env_vars: from_env
                .iter()
                .filter_map(|f| env_var_of(f).map(|v| (f.clone(), v.to_owned())))
                .collect(),
            from_env,
        })
    }

    /// Validates and saves a change. Permission: `integration.edit`. Errors carry `fields`
    /// keyed by input name.
    pub fn save_chat_settings(
        &self,
        actor: &Actor,
        patch: ChatSettingsPatch,
    ) -> CoreResult<ChatSettings> {
        actor.require(Permission::IntegrationEdit)?;
        let conn = self.db().conn();
        let (mut s, mode_saved) = load(&conn)?;
        let stored_url = s.instance_url.clone();
        // A mode is "saved" only when the user chose one; saving other fields must not pin
        // the default and so override SERVICENOW_INSTANCE.
        let keep_mode_unsaved = patch.mode.is_none() && !mode_saved;
        // A field the environment decides is shown, never stored: a value sent back for it
        // (the form shows it) is ignored, so it cannot block saving the other fields.
        let mut patch = patch;
        let typed = TypedSecrets {
            client_secret: patch.client_secret.is_some(),
            password: patch.password.is_some(),
            va_token: patch.va_token.is_some(),
        };
        let env_decides = |field: &str| env_var_of(field).is_some();
        for (field, _, _) in ENV_FIELDS {
            if env_decides(field) {
                match field {
                    "instance_url" => patch.instance_url = None,
                    "client_id" => patch.client_id = None,
                    "username" => patch.username = None,
                    "bot_id" => patch.bot_id = None,
                    _ => {}
                }
            }
        }
        if let Some(m) = patch.mode {
            s.mode = m;
        }
        if let Some(v) = patch.instance_url {
            s.instance_url = clean(Some(v)).map(|u| u.trim_end_matches('/').to_owned());
        }
        if let Some(a) = patch.auth {
            s.auth = a;
        }
        if let Some(v) = patch.client_id {
            s.client_id = clean(Some(v));
        }
        if let Some(v) = patch.username {
            s.username = clean(Some(v));
        }
        if let Some(v) = patch.bot_id {
            s.bot_id = clean(Some(v));
        }
        if let Some(v) = patch.email {
            s.email = clean(Some(v));
        }
        if let Some(v) = patch.enterprise_id {
            s.enterprise_id = clean(Some(v));
        }
        if let Some(p) = patch.webhook_port {
            s.webhook_port = p;
        }
        if let Some(t) = patch.tunnel {
            s.tunnel = t;
        }
        if let Some(hosts) = patch.public_hosts {
            s.public_hosts = hosts
                .into_iter()
                .filter_map(|h| clean(Some(h)).map(|h| h.to_ascii_lowercase()))
                .collect();
        }
        if let Some(w) = patch.wait_timeout_s {
            s.wait_timeout_s = w;
        }
        if let Some(d) = patch.attachment_days {
            s.attachment_days = d;
        }
        let mut problems: BTreeMap<&str, String> = BTreeMap::new();
        if let Some(problem) = s
            .instance_url
            .as_deref()
            .filter(|_| !env_decides("instance_url"))
            .and_then(instance_url_problem)
        {
            problems.insert("instance_url", problem);
        }
        if s.mode == Mode::Real && s.instance_url.is_none() && env("SERVICENOW_INSTANCE").is_none()
        {
            problems.insert(
                "instance_url",
                "Real mode needs the ServiceNow instance URL.".into(),
            );
        }
        if !(10..=86_400).contains(&s.wait_timeout_s) {
            problems.insert(
                "wait_timeout_s",
                "Wait between 10 seconds and 24 hours.".into(),
            );
        }
        if !(1..=3650).contains(&s.attachment_days) {
            problems.insert(
                "attachment_days",
                "Keep attachments between 1 day and 10 years.".into(),
            );
        }
        if s.tunnel && s.public_hosts.is_empty() {
            problems.insert(
                "public_hosts",
                "Tunnel mode needs the public host name the tunnel gives the webhook.".into(),
            );
        }
        if let Some(email) = &s.email {
            if !email.contains('@') {
                problems.insert("email", "Enter an e-mail address.".into());
            }
        }
        let rehomed = self.secrets_for_new_instance(&conn, stored_url.as_deref(), &s, typed)?;
        for (field, problem) in &rehomed.missing {
            problems.entry(field).or_insert_with(|| problem.clone());
        }
        // A secret the webhook would refuse at start is refused here already (empty: remove).
        if let Some(secret) = &patch.webhook_secret {
            let secret = secret.expose_secret();
            if !secret.is_empty() && !super::webhook::secret_long_enough(secret) {
                problems.insert("webhook_secret", super::webhook::short_secret_message());
            }
        }
        if !problems.is_empty() {
            // The instance URL's message already names the secrets to type again.
            let message = problems
                .iter()
                .filter(|(field, _)| {
                    **field == "instance_url" || !rehomed.missing.iter().any(|(f, _)| f == *field)
                })
                .map(|(_, problem)| problem.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let mut e = CoreError::new(ErrorCode::Validation, message);
            for (field, problem) in problems {
                e = e.with_field(field, problem);
            }
            return Err(e);
        }
        let secrets = [
            ("client_secret", patch.client_secret),
            ("password", patch.password),
            ("va_token", patch.va_token),
            ("webhook_secret", patch.webhook_secret),
        ];
        // Secrets the auth method in force does not use were entered for the old instance:
        // they are dropped rather than kept for a host they were never meant for.
        for field in rehomed.stale {
            self.vault().delete(&conn, secret_ref(field))?;
        }
        for (field, value) in secrets {
            match value {
                None => {}
                Some(v) if v.expose_secret().is_empty() => {
                    self.vault().delete(&conn, secret_ref(field))?
                }
                Some(v) => self.vault().put(&conn, secret_ref(field), &v)?,
            }
        }
        let mut doc = serde_json::to_value(&s)
            .map_err(|e| CoreError::internal(format!("chat settings: {e}")))?;
        if keep_mode_unsaved {
            if let Some(fields) = doc.as_object_mut() {
                fields.remove("mode");
            }
        }
        let json = doc.to_string();
        store::set_setting(&conn, SETTINGS_KEY, &json)?;
        let revision = store::get_setting(&conn, REVISION_KEY)?
            .and_then(|r| r.parse::<u64>().ok())
            .unwrap_or(0)
            + 1;
        store::set_setting(&conn, REVISION_KEY, &revision.to_string())?;
        drop(conn);
        tracing::info!(by = %actor.name, mode = s.mode.as_str(), "saved chat settings");
        self.chat_settings(actor)
    }

    /// The settings with secrets, for the chat service (no permission: a system read; the
    /// values never leave the core). Reads the vault: for the values alone, [`Self::chat_values`].
    pub(crate) fn resolved_chat(&self) -> CoreResult<ResolvedChat> {
        let conn = self.db().conn();
        let (values, _) = with_env(load(&conn)?);
        let secret = |field: &str, var: Option<&str>| -> CoreResult<Option<SecretString>> {
            if let Some(v) = var.and_then(env) {
                return Ok(Some(SecretString::from(v)));
            }
            self.vault().get(&conn, secret_ref(field))
        };
        Ok(ResolvedChat {
            values,
            client_secret: secret("client_secret", Some("SERVICENOW_CLIENT_SECRET"))?,
            password: secret("password", Some("SERVICENOW_PASSWORD"))?,
            va_token: secret("va_token", None)?,
            webhook_secret: secret("webhook_secret", Some("WEBHOOK_SECRET"))?,
            revision: store::get_setting(&conn, REVISION_KEY)?
                .and_then(|r| r.parse().ok())
                .unwrap_or(0),
        })
    }

    /// The non-secret settings with environment overrides (one row; no vault, no keyring).
    pub(crate) fn chat_values(&self) -> CoreResult<ChatValues> {
        Ok(with_env(load(&self.db().conn())?).0)
    }

    /// The settings revision alone (cheap: one row).
    pub(crate) fn chat_settings_revision(&self) -> CoreResult<u64> {
        Ok(store::get_setting(&self.db().conn(), REVISION_KEY)?
            .and_then(|r| r.parse().ok())
            .unwrap_or(0))
    }
}
