//! `Core`: the one API the desktop UI, the CLI and the tests call. Every operation takes the
//! acting profile and checks its permission here, not in the callers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use crate::access::{Actor, Permission, Profile};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::integrations::{
    self, Candidate, Integration, IntegrationPatch, NewIntegration, SecretField, SecretFlags,
};
use crate::kb::KnowledgeBase;
use crate::secrets::{SecretRef, SecretStoreInfo, StorePreference, Vault};
use crate::store::{self, Db};
use crate::sync::SyncJobs;

const INTEGRATION_SCOPE: &str = "integration";

/// Name of the integration that points at the built-in simulator.
pub const DEMO_INTEGRATION_NAME: &str = "Demo ServiceNow (simulated)";
/// Settings keys of the demo: its integration's id, and its simulator's last port.
const DEMO_ID_KEY: &str = "demo_integration_id";
const DEMO_PORT_KEY: &str = "demo_sim_port";

/// What the UI needs to render its frame: who is acting, what they may do, where data lives.
#[derive(Debug, Clone, Serialize)]
pub struct AppStatus {
    pub version: String,
    pub data_dir: String,
    pub secret_store: SecretStoreInfo,
    pub profile: Profile,
    pub permissions: Vec<Permission>,
}

/// The opened data directory: database, secret store.
pub struct Core {
    data_dir: PathBuf,
    db: Db,
    vault: Vault,
    kb: KnowledgeBase,
    jobs: SyncJobs,
    /// Request budgets of integrations that have one, shared by their syncs and checks.
    pub(crate) budgets: std::sync::Mutex<
        std::collections::HashMap<i64, std::sync::Arc<crate::connectors::pacing::RequestBudget>>,
    >,
}

impl Core {
    /// Opens the data directory (creating it), migrates the database and picks the secret store
    /// as `SUPPORTBOT_SECRET_STORE` says.
    pub fn open(data_dir: &Path) -> CoreResult<Core> {
        Core::open_with(data_dir, StorePreference::from_env())
    }

    /// Like [`Core::open`], with an explicit secret-store preference.
    pub fn open_with(data_dir: &Path, preference: StorePreference) -> CoreResult<Core> {
        crate::paths::ensure_dir(data_dir)?;
        let db = Db::open(data_dir)?;
        let vault_id = store::get_setting(&db.conn(), "vault_id")?.ok_or_else(|| {
            CoreError::internal("The database has no vault id; it may be damaged.")
        })?;
        let vault = Vault::open(data_dir, &vault_id, preference)?;
        Ok(Core {
            data_dir: data_dir.to_path_buf(),
            kb: KnowledgeBase::new(data_dir),
            jobs: SyncJobs::default(),
            budgets: Default::default(),
            db,
            vault,
        })
    }

    /// Opens the default data directory (`SUPPORTBOT_DATA_DIR` or the OS app-data directory).
    pub fn open_default() -> CoreResult<Core> {
        Core::open(&crate::paths::data_dir()?)
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn db_path(&self) -> &Path {
        self.db.path()
    }

    pub(crate) fn db(&self) -> &Db {
        &self.db
    }

    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    pub(crate) fn sync_jobs(&self) -> &SyncJobs {
        &self.jobs
    }

    pub(crate) fn vault(&self) -> &Vault {
        &self.vault
    }

    pub fn secret_store(&self) -> SecretStoreInfo {
        self.vault.info()
    }

    /// Status for `actor`, or for a locked session (active profile needs a password) when `None`.
    pub fn status(&self, actor: Option<&Actor>) -> CoreResult<AppStatus> {
        let profile = match actor {
            Some(a) => self
                .profiles()?
                .into_iter()
                .find(|p| p.name == a.name)
                .ok_or_else(|| CoreError::not_found("profile", &a.name))?,
            None => self.active_profile()?,
        };
        Ok(AppStatus {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.data_dir.display().to_string(),
            secret_store: self.vault.info(),
            permissions: actor.map(|a| a.role.permissions()).unwrap_or_default(),
            profile,
        })
    }

    // ---- integrations ---------------------------------------------------------------------

    pub fn list_integrations(&self, actor: &Actor) -> CoreResult<Vec<Integration>> {
        actor.require(Permission::IntegrationView)?;
        let mut list = integrations::list(&self.db.conn())?;
        for i in &mut list {
            i.running = self.jobs.is_running(i.id);
        }
        Ok(list)
    }

    pub fn integration(&self, actor: &Actor, id: i64) -> CoreResult<Integration> {
        actor.require(Permission::IntegrationView)?;
        let mut i = integrations::get(&self.db.conn(), id)?;
        i.running = self.jobs.is_running(id);
        Ok(i)
    }

    pub fn integration_by_name(&self, actor: &Actor, name: &str) -> CoreResult<Integration> {
        actor.require(Permission::IntegrationView)?;
        integrations::find_by_name(&self.db.conn(), name)?
            .ok_or_else(|| CoreError::not_found("integration", name))
    }

    /// The integration's name for notifications and logs (no permission needed: a name only).
    pub fn integration_name(&self, id: i64) -> CoreResult<String> {
        Ok(integrations::get(&self.db.conn(), id)?.name)
    }

    pub fn add_integration(&self, actor: &Actor, input: NewIntegration) -> CoreResult<Integration> {
        actor.require(Permission::IntegrationCreate)?;
        let mut secrets = SecretFlags::default();
        for f in SecretField::ALL {
            secrets.set(f, provided(input.secret(f)).is_some());
        }
        let mut c = Candidate::from_new(&input, secrets);
        let mut conn = self.db.conn();
        let tx = conn.transaction()?;
        integrations::validate(&mut c, |name| {
            Ok(integrations::find_by_name(&tx, name)?.is_some())
        })?;
        let id = integrations::insert(&tx, &c)?;
        let writes: Vec<(SecretField, &SecretString)> = c
            .auth
            .secret_fields()
            .iter()
            .filter_map(|f| provided(input.secret(*f)).map(|v| (*f, v)))
            .collect();
        self.write_secrets(&tx, id, &writes)?;
        tx.commit()?;
        drop(conn);
        tracing::info!(integration = %c.name, kind = c.kind.as_str(), auth = c.auth.as_str(), by = %actor.name, "added integration");
        integrations::get(&self.db.conn(), id)
    }

    pub fn edit_integration(
        &self,
        actor: &Actor,
        id: i64,
        patch: IntegrationPatch,
    ) -> CoreResult<Integration> {
        actor.require(Permission::IntegrationEdit)?;
        let mut conn = self.db.conn();
        let tx = conn.transaction()?;
        let current = integrations::get(&tx, id)?;
        let mut secrets = current.secrets;
        for f in SecretField::ALL {
            if provided(patch.secret(f)).is_some() {
                secrets.set(f, true);
            }
        }
        let auth = patch.auth.unwrap_or(current.auth);
        let mut c = Candidate {
            name: patch.name.clone().unwrap_or_else(|| current.name.clone()),
            kind: current.kind,
            auth,
            url: patch.url.clone().unwrap_or_else(|| current.url.clone()),
            username: patch.username.clone().or_else(|| current.username.clone()),
            client_id: patch
                .client_id
                .clone()
                .or_else(|| current.client_id.clone()),
            enabled: patch.enabled.unwrap_or(current.enabled),
            schedule_minutes: match patch.schedule_minutes {
                Some(0) => None,
                Some(m) => Some(m),
                None => current.schedule_minutes,
            },
            filters: patch
                .filters
                .clone()
                .unwrap_or_else(|| current.filters.clone()),
            request_budget: match patch.request_budget {
                Some(0) => None,
                Some(b) => Some(b),
                None => current.request_budget,
            },
            ca_certificates: patch
                .ca_certificates
                .clone()
                .or_else(|| current.ca_certificates.clone()),
            secrets,
            // An unencrypted URL accepted before stays accepted while its origin does.
            allow_insecure_http: patch.allow_insecure_http
                || patch
                    .url
                    .as_deref()
                    .is_none_or(|url| integrations::same_origin(&current.url, url)),
        };
        let typed = |f: SecretField| provided(patch.secret(f)).is_some();
        let rehomed = match &patch.url {
            Some(url) => integrations::secrets_for_new_origin(&current.url, url, auth, typed),
            None => BTreeMap::new(),
        };
        let checked = integrations::validate(&mut c, |name| {
            Ok(integrations::find_by_name(&tx, name)?.is_some_and(|other| other.id != id))
        });
        match checked {
            // One answer listing every input to fix, the secrets for the new host among them.
            Err(mut e) if e.code == ErrorCode::Validation && !rehomed.is_empty() => {
                for (field, message) in rehomed {
                    e.fields.entry(field).or_insert(message);
                }
                return Err(e);
            }
            Err(e) => return Err(e),
            Ok(()) if !rehomed.is_empty() => {
                let message = rehomed.get("url").cloned().unwrap_or_default();
                let mut e = CoreError::invalid(rehomed);
                // The URL's message says what to do about all of them.
                e.message = message;
                return Err(e);
            }
            Ok(()) => {}
        }
        integrations::update(&tx, id, &c)?;
        let writes: Vec<(SecretField, &SecretString)> = auth
            .secret_fields()
            .iter()
            .filter_map(|f| provided(patch.secret(*f)).map(|v| (*f, v)))
            .collect();
        self.write_secrets(&tx, id, &writes)?;
        // Secrets the new auth type does not use are removed, not left behind.
        for f in SecretField::ALL {
            if !auth.secret_fields().contains(&f) && current.secrets.get(f) {
                self.vault.delete(&tx, secret_ref(id, f))?;
            }
        }
        tx.commit()?;
        drop(conn);
        tracing::info!(integration = %c.name, by = %actor.name, "edited integration");
        integrations::get(&self.db.conn(), id)
    }

    pub fn set_integration_enabled(
        &self,
        actor: &Actor,
        id: i64,
        enabled: bool,
    ) -> CoreResult<Integration> {
        actor.require(Permission::IntegrationEdit)?;
        let conn = self.db.conn();
        let current = integrations::get(&conn, id)?;
        integrations::set_enabled(&conn, id, enabled)?;
        tracing::info!(integration = %current.name, enabled, by = %actor.name, "changed enabled state");
        integrations::get(&conn, id)
    }

    /// Removes the connection settings and stored credentials. Synced data stays.
    pub fn remove_integration(&self, actor: &Actor, id: i64) -> CoreResult<()> {
        actor.require(Permission::IntegrationDelete)?;
        let mut conn = self.db.conn();
        let tx = conn.transaction()?;
        let current = integrations::get(&tx, id)?;
        for f in SecretField::ALL {
            self.vault.delete(&tx, secret_ref(id, f))?;
        }
        integrations::delete(&tx, id)?;
        tx.commit()?;
        tracing::info!(integration = %current.name, by = %actor.name, "removed integration");
        Ok(())
    }

    /// A stored credential, for connectors. Never send the result to the UI or a log.
    pub fn integration_secret(
        &self,
        id: i64,
        field: SecretField,
    ) -> CoreResult<Option<SecretString>> {
        self.vault.get(&self.db.conn(), secret_ref(id, field))
    }

    /// Whether the built-in simulator should run for the demo, and on which port it ran last
    /// (0 = any). `None` once the user has deleted the demo integration: it is not forced back.
    pub fn demo_port(&self) -> CoreResult<Option<u16>> {
        let conn = self.db.conn();
        let port = store::get_setting(&conn, DEMO_PORT_KEY)?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        match store::get_setting(&conn, DEMO_ID_KEY)? {
            None => Ok(Some(port)),
            Some(id) => {
                let exists = id
                    .parse::<i64>()
                    .is_ok_and(|id| integrations::get(&conn, id).is_ok());
                Ok(exists.then_some(port))
            }
        }
    }

    /// Creates the demo integration on first run, pointing at the simulator's read-only
    /// service account, or re-points it when the simulator got another port. A system action
    /// of start-up, not of a profile. Returns `None` when the user deleted the demo.
    pub fn ensure_demo_integration(
        &self,
        base_url: &str,
        port: u16,
    ) -> CoreResult<Option<Integration>> {
        let mut conn = self.db.conn();
        let tx = conn.transaction()?;
        store::set_setting(&tx, DEMO_PORT_KEY, &port.to_string())?;
        let id = match store::get_setting(&tx, DEMO_ID_KEY)? {
            Some(id) => {
                let Ok(id) = id.parse::<i64>() else {
                    return Ok(None);
                };
                let Ok(current) = integrations::get(&tx, id) else {
                    tx.commit()?;
                    return Ok(None);
                };
                if current.url != base_url {
                    tx.execute(
                        "UPDATE integrations SET url = ?2 WHERE id = ?1",
                        rusqlite::params![id, base_url],
                    )?;
                }
                id
            }
            None => {
                let mut name = DEMO_INTEGRATION_NAME.to_string();
                // A user's own integration may already carry the name; never clobber it.
                if integrations::find_by_name(&tx, &name)?.is_some() {
                    name = format!("{DEMO_INTEGRATION_NAME} 2");
                }
                let mut c = Candidate {
                    name,
                    kind: crate::integrations::Kind::Servicenow,
                    auth: crate::integrations::AuthType::Basic,
                    url: base_url.to_string(),
                    username: Some("svc.readonly".into()),
                    client_id: None,
                    enabled: true,
                    schedule_minutes: None,
                    filters: Default::default(),
                    request_budget: None,
                    ca_certificates: None,
                    secrets: SecretFlags {
                        password: true,
                        ..SecretFlags::default()
                    },
                    allow_insecure_http: false,
                };
                integrations::validate(&mut c, |n| {
                    Ok(integrations::find_by_name(&tx, n)?.is_some())
                })?;
                let id = integrations::insert(&tx, &c)?;
                let password = SecretString::from("readonly".to_string());
                self.write_secrets(&tx, id, &[(SecretField::Password, &password)])?;
                store::set_setting(&tx, DEMO_ID_KEY, &id.to_string())?;
                tracing::info!(url = base_url, "created the demo integration");
                id
            }
        };
        tx.commit()?;
        drop(conn);
        integrations::get(&self.db.conn(), id).map(Some)
    }

    fn write_secrets(
        &self,
        conn: &rusqlite::Connection,
        id: i64,
        writes: &[(SecretField, &SecretString)],
    ) -> CoreResult<()> {
        for (i, (field, value)) in writes.iter().enumerate() {
            if let Err(e) = self.vault.put(conn, secret_ref(id, *field), value) {
                // Undo the keyring writes of this call; the transaction undoes the rows.
                for (done, _) in &writes[..i] {
                    let _ = self.vault.delete(conn, secret_ref(id, *done));
                }
                return Err(e);
            }
        }
        Ok(())
    }
}

fn secret_ref(id: i64, field: SecretField) -> SecretRef<'static> {
    SecretRef {
        scope: INTEGRATION_SCOPE,
        owner_id: id,
        field: field.as_str(),
    }
}

/// A secret counts as given only when non-empty: an empty input means "keep" / "not set".
fn provided(s: Option<&SecretString>) -> Option<&SecretString> {
    s.filter(|v| !v.expose_secret().is_empty())
}
