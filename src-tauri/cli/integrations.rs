//! `supportbot integrations …`.

use clap::{Args as ClapArgs, Subcommand, ValueEnum};
use supportbot_core::integrations::{
    same_origin, AuthType, Filters, Integration, IntegrationPatch, Kind, NewIntegration,
    SecretField,
};
use supportbot_core::{CoreError, CoreResult, ErrorCode};

use super::secret_input::{from_env, from_env_or_prompt};
use super::Context;

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// List integrations with their sync status.
    List,
    /// Add an integration. Secrets come from SUPPORTBOT_PASSWORD, SUPPORTBOT_TOKEN and
    /// SUPPORTBOT_CLIENT_SECRET, or a prompt on a terminal.
    Add(AddArgs),
    /// Change an integration. Only the given flags change; a secret changes only when its
    /// environment variable is set, except that a URL on another host needs every secret
    /// again (environment, or a prompt on a terminal).
    Edit(EditArgs),
    /// Remove an integration's connection settings and credentials (synced data stays).
    Remove { name: String },
    /// Enable scheduled syncing of an integration.
    Enable { name: String },
    /// Disable scheduled syncing (manual sync still works).
    Disable { name: String },
    /// Check the connection step by step: reach (DNS, TCP, TLS), auth, read, and how many
    /// incidents the source counts for the integration's filters. Exit 0 when every step
    /// passes. `--json`: {"ok", "steps": [{"name", "ok", "detail", "advice"}], "source_total"}.
    Check { name: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KindArg {
    Servicenow,
    Jira,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AuthArg {
    Basic,
    Token,
    /// OAuth password grant (client id + secret, username + password).
    Oauth2,
    /// OAuth client credentials grant (client id + SUPPORTBOT_CLIENT_SECRET; no password).
    Oauth2ClientCredentials,
}

impl From<KindArg> for Kind {
    fn from(k: KindArg) -> Kind {
        match k {
            KindArg::Servicenow => Kind::Servicenow,
            KindArg::Jira => Kind::Jira,
        }
    }
}

impl From<AuthArg> for AuthType {
    fn from(a: AuthArg) -> AuthType {
        match a {
            AuthArg::Basic => AuthType::Basic,
            AuthArg::Token => AuthType::Token,
            AuthArg::Oauth2 => AuthType::Oauth2,
            AuthArg::Oauth2ClientCredentials => AuthType::Oauth2ClientCredentials,
        }
    }
}

#[derive(Debug, ClapArgs)]
pub struct AddArgs {
    #[arg(long)]
    name: String,
    #[arg(long, value_enum)]
    kind: KindArg,
    #[arg(long, value_enum)]
    auth: AuthArg,
    #[arg(long)]
    url: String,
    /// Username, or the account email for a Jira Cloud API token.
    #[arg(long)]
    username: Option<String>,
    /// OAuth client id (auth oauth2).
    #[arg(long)]
    client_id: Option<String>,
    /// Create it disabled (no scheduled syncs).
    #[arg(long)]
    disabled: bool,
    /// Sync automatically every N minutes (5 to 10080) while enabled and the app runs.
    #[arg(long, value_name = "N")]
    schedule_minutes: Option<u32>,
    /// Accept an http:// URL on another machine: credentials and incidents then travel
    /// unencrypted. Not needed for localhost, 127.0.0.1 or [::1].
    #[arg(long)]
    allow_insecure_http: bool,
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

/// How the app reaches the source: trusted certificates and request pacing.
#[derive(Debug, ClapArgs)]
pub struct NetworkArgs {
    /// Trust the CA certificate(s) in this PEM file for this integration, besides the OS trust
    /// store (a corporate TLS-inspecting proxy, a self-signed instance).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<std::path::PathBuf>,
    /// Stop trusting the certificates given with --ca-file (edit only).
    #[arg(long, conflicts_with = "ca_file")]
    no_ca_file: bool,
    /// Send at most N requests per hour to the source (e.g. 500, a common instance limit):
    /// a sync then waits for the budget instead of running into rate limits. 0 removes it.
    #[arg(long, value_name = "N")]
    request_budget: Option<u32>,
}

impl NetworkArgs {
    /// The PEM text of --ca-file, `Some("")` for --no-ca-file, `None` when neither is given.
    fn ca_certificates(&self) -> CoreResult<Option<String>> {
        if self.no_ca_file {
            return Ok(Some(String::new()));
        }
        let Some(path) = &self.ca_file else {
            return Ok(None);
        };
        std::fs::read_to_string(path).map(Some).map_err(|e| {
            CoreError::invalid(
                [(
                    "ca_certificates".to_string(),
                    format!(
                        "Cannot read the CA file {}: {e}. Give the path of a PEM file.",
                        path.display()
                    ),
                )]
                .into(),
            )
        })
    }
}

/// What a sync pulls. Lists are comma separated; on edit, given flags replace those filters.
#[derive(Debug, ClapArgs)]
pub struct FilterArgs {
    /// Only these priorities, e.g. "1 - Critical,2 - High" (Jira: "Highest,High").
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    filter_priority: Option<Vec<String>>,
    /// Only these categories (Jira: project keys).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    filter_category: Option<Vec<String>>,
    /// Only these states (ServiceNow values or labels; Jira status names).
    #[arg(long, value_delimiter = ',', value_name = "LIST")]
    filter_state: Option<Vec<String>>,
    /// Only incidents updated on or after this date (YYYY-MM-DD or RFC 3339).
    #[arg(long, value_name = "DATE")]
    updated_from: Option<String>,
    /// Only incidents updated on or before this date.
    #[arg(long, value_name = "DATE")]
    updated_to: Option<String>,
    /// A ServiceNow encoded query or a JQL fragment, AND-ed with the other filters.
    #[arg(long, value_name = "QUERY")]
    query: Option<String>,
    /// Remove every filter before applying the given ones.
    #[arg(long)]
    clear_filters: bool,
}

impl FilterArgs {
    /// `base` with the given flags applied, or `None` when no filter flag was given.
    fn apply(&self, base: &Filters) -> Option<Filters> {
        let given = self.clear_filters
            || self.filter_priority.is_some()
            || self.filter_category.is_some()
            || self.filter_state.is_some()
            || self.updated_from.is_some()
            || self.updated_to.is_some()
            || self.query.is_some();
        if !given {
            return None;
        }
        let mut f = if self.clear_filters {
            Filters::default()
        } else {
            base.clone()
        };
        if let Some(v) = &self.filter_priority {
            f.priority = v.clone();
        }
        if let Some(v) = &self.filter_category {
            f.category = v.clone();
        }
        if let Some(v) = &self.filter_state {
            f.state = v.clone();
        }
        if let Some(v) = &self.updated_from {
            f.updated_from = Some(v.clone());
        }
        if let Some(v) = &self.updated_to {
            f.updated_to = Some(v.clone());
        }
        if let Some(v) = &self.query {
            f.raw_query = Some(v.clone());
        }
        Some(f)
    }
}

#[derive(Debug, ClapArgs)]
pub struct EditArgs {
    /// The integration to change.
    target: String,
    /// New service name.
    #[arg(long)]
    name: Option<String>,
    /// The kind cannot change; given, it must match.
    #[arg(long, value_enum)]
    kind: Option<KindArg>,
    #[arg(long, value_enum)]
    auth: Option<AuthArg>,
    /// A URL on another host (scheme, host or port) needs the credentials again: set their
    /// environment variables, or be prompted on a terminal.
    #[arg(long)]
    url: Option<String>,
    #[arg(long)]
    username: Option<String>,
    #[arg(long)]
    client_id: Option<String>,
    /// Sync automatically every N minutes; 0 turns automatic sync off.
    #[arg(long, value_name = "N")]
    schedule_minutes: Option<u32>,
    /// Accept a new http:// URL on another machine (unencrypted), as for `add`.
    #[arg(long)]
    allow_insecure_http: bool,
    #[command(flatten)]
    filters: FilterArgs,
    #[command(flatten)]
    network: NetworkArgs,
}

const SECRET_ENV: [(SecretField, &str, &str); 3] = [
    (SecretField::Password, "SUPPORTBOT_PASSWORD", "Password"),
    (SecretField::Token, "SUPPORTBOT_TOKEN", "API token"),
    (
        SecretField::ClientSecret,
        "SUPPORTBOT_CLIENT_SECRET",
        "Client secret",
    ),
];

pub(crate) fn run(ctx: &Context, cmd: IntegrationsCommand) -> CoreResult<()> {
    let actor = ctx.actor()?;
    let core = &ctx.core;
    match cmd {
        // Runs through `integration_check::run` (it sets the exit code).
        IntegrationsCommand::Check { name } => {
            super::integration_check::run(ctx, &name)?;
        }
        IntegrationsCommand::List => {
            let list = core.list_integrations(&actor)?;
            if ctx.out.is_json() {
                ctx.out.json(&list);
            } else {
                print_table(&list);
            }
        }
        IntegrationsCommand::Add(a) => {
            let auth: AuthType = a.auth.into();
            let mut input = NewIntegration {
                name: a.name,
                kind: a.kind.into(),
                auth,
                url: a.url,
                username: a.username,
                client_id: a.client_id,
                password: None,
                token: None,
                client_secret: None,
                enabled: Some(!a.disabled),
                schedule_minutes: a.schedule_minutes,
                filters: a.filters.apply(&Filters::default()),
                request_budget: a.network.request_budget,
                ca_certificates: a.network.ca_certificates()?,
                allow_insecure_http: a.allow_insecure_http,
            };
            for (field, var, label) in SECRET_ENV {
                if auth.secret_fields().contains(&field) {
                    let value = from_env_or_prompt(var, label);
                    match field {
                        SecretField::Password => input.password = value,
                        SecretField::Token => input.token = value,
                        SecretField::ClientSecret => input.client_secret = value,
                    }
                }
            }
            let created = core
                .add_integration(&actor, input)
                .map_err(with_env_hints)?;
            report(ctx, &created, "Added");
        }
        IntegrationsCommand::Edit(e) => {
            let current = core.integration_by_name(&actor, &e.target)?;
            if let Some(kind) = e.kind.map(Kind::from) {
                if kind != current.kind {
                    return Err(CoreError::invalid(
                        [("kind".to_string(), format!("The kind of \"{}\" is {} and cannot change; add a new integration instead.", current.name, current.kind.label()))].into(),
                    ));
                }
            }
            let auth = e.auth.map(AuthType::from).unwrap_or(current.auth);
            // Another host needs the secrets again (the core refuses the edit without them), so
            // a terminal asks for them; otherwise only what the environment sets changes.
            let rehomed = e
                .url
                .as_deref()
                .is_some_and(|url| !same_origin(&current.url, url));
            let secret = |field: SecretField, var: &str, label: &str| {
                if rehomed && auth.secret_fields().contains(&field) {
                    from_env_or_prompt(var, label)
                } else {
                    from_env(var)
                }
            };
            let patch = IntegrationPatch {
                name: e.name,
                url: e.url,
                auth: e.auth.map(AuthType::from),
                username: e.username,
                client_id: e.client_id,
                password: secret(SecretField::Password, "SUPPORTBOT_PASSWORD", "Password"),
                token: secret(SecretField::Token, "SUPPORTBOT_TOKEN", "API token"),
                client_secret: secret(
                    SecretField::ClientSecret,
                    "SUPPORTBOT_CLIENT_SECRET",
                    "Client secret",
                ),
                enabled: None,
                schedule_minutes: e.schedule_minutes,
                filters: e.filters.apply(&current.filters),
                request_budget: e.network.request_budget,
                ca_certificates: e.network.ca_certificates()?,
                allow_insecure_http: e.allow_insecure_http,
            };
            let edited = core
                .edit_integration(&actor, current.id, patch)
                .map_err(with_env_hints)?;
            report(ctx, &edited, "Updated");
        }
        IntegrationsCommand::Remove { name } => {
            let current = core.integration_by_name(&actor, &name)?;
            core.remove_integration(&actor, current.id)?;
            if ctx.out.is_json() {
                ctx.out
                    .json(&serde_json::json!({ "removed": current.name }));
            } else {
                println!(
                    "Removed \"{}\". Incidents already synced stay in the knowledge base.",
                    current.name
                );
            }
        }
        IntegrationsCommand::Enable { name } => set_enabled(ctx, &actor, &name, true)?,
        IntegrationsCommand::Disable { name } => set_enabled(ctx, &actor, &name, false)?,
    }
    Ok(())
}

fn set_enabled(
    ctx: &Context,
    actor: &supportbot_core::Actor,
    name: &str,
    enabled: bool,
) -> CoreResult<()> {
    let current = ctx.core.integration_by_name(actor, name)?;
    let updated = ctx
        .core
        .set_integration_enabled(actor, current.id, enabled)?;
    report(ctx, &updated, if enabled { "Enabled" } else { "Disabled" });
    Ok(())
}

fn report(ctx: &Context, i: &Integration, verb: &str) {
    if ctx.out.is_json() {
        ctx.out.json(i);
    } else {
        println!(
            "{verb} \"{}\" ({}, {}, {}).",
            i.name,
            i.kind.label(),
            i.auth.label(),
            if i.enabled { "enabled" } else { "disabled" }
        );
    }
}

/// Points missing-secret messages at the environment variable to set.
fn with_env_hints(mut e: CoreError) -> CoreError {
    let mut hinted = false;
    for (field, var, _) in SECRET_ENV {
        if let Some(msg) = e.fields.get_mut(field.as_str()) {
            msg.push_str(&format!(
                " Set {var} (or run on a terminal to be prompted)."
            ));
            hinted = true;
        }
    }
    // A single-field validation message is the field's message: keep them the same.
    if hinted && e.code == ErrorCode::Validation && e.fields.len() == 1 {
        if let Some(msg) = e.fields.values().next() {
            e.message = msg.clone();
        }
    }
    e
}

fn print_table(list: &[Integration]) {
    if list.is_empty() {
        println!("No integrations yet. Add one with `supportbot integrations add --name … --kind servicenow --auth basic --url …`.");
        return;
    }
    let rows: Vec<[String; 7]> = list
        .iter()
        .map(|i| {
            [
                i.name.clone(),
                i.kind.label().to_string(),
                i.auth.label().to_string(),
                if i.enabled { "yes" } else { "no" }.to_string(),
                i.last_sync.clone().unwrap_or_else(|| "never".into()),
                format!("{:?}", i.status).to_lowercase(),
                i.url.clone(),
            ]
        })
        .collect();
    let header = [
        "NAME",
        "KIND",
        "AUTH",
        "ENABLED",
        "LAST SYNC",
        "STATUS",
        "URL",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    println!("{}", line(header.to_vec()));
    for row in &rows {
        println!("{}", line(row.iter().map(String::as_str).collect()));
    }
}
