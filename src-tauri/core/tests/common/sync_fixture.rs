//! The sync fixture: a core with the real model and one integration on a fresh simulator.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::Value;
use supportbot_core::connectors::{ConnectorOptions, RetryPolicy};
use supportbot_core::integrations::NewIntegration;
use supportbot_core::secrets::StorePreference;
use supportbot_core::store::{open_connection, DB_FILE};
use supportbot_core::sync::{SyncOptions, SyncProgress, SyncReport};
use supportbot_core::{Actor, Core};
use supportbot_sim::{RunningSim, SimConfig};

pub struct Fixture {
    pub _dir: tempfile::TempDir,
    pub core: Arc<Core>,
    pub admin: Actor,
    pub sim: RunningSim,
    pub id: i64,
}

/// A core with an integration on a fresh simulator, or `None` (skip) without the model.
pub async fn fixture(incidents: usize, user: &str, password: &str) -> Option<Fixture> {
    fixture_with(
        SimConfig {
            incidents,
            ..SimConfig::default()
        },
        |i| NewIntegration {
            username: Some(user.into()),
            password: Some(SecretString::from(password.to_string())),
            ..i
        },
    )
    .await
}

/// A fixture on a simulator started with `config`, with the integration `adjust` makes of a
/// Basic admin/admin one.
pub async fn fixture_with(
    config: SimConfig,
    adjust: impl FnOnce(NewIntegration) -> NewIntegration,
) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    if let Err(e) = core.knowledge_base().embedder() {
        if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") {
            panic!("the embedding model is required: {e}");
        }
        eprintln!("skipping: {e}");
        return None;
    }
    let sim = supportbot_sim::start(config).await.unwrap();
    let admin = core.actor(None, None).unwrap();
    let id = core
        .add_integration(&admin, adjust(super::sim_basic("Sim", &sim.base_url())))
        .unwrap()
        .id;
    Some(Fixture {
        _dir: dir,
        core,
        admin,
        sim,
        id,
    })
}

pub fn options() -> SyncOptions {
    SyncOptions {
        batch_size: 16,
        page_size: 50,
        connector: ConnectorOptions {
            retry: RetryPolicy::fast(),
            ..ConnectorOptions::default()
        },
        ..SyncOptions::default()
    }
}

impl Fixture {
    pub async fn sync_with(&self, options: SyncOptions) -> (SyncReport, Vec<SyncProgress>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let report = self
            .core
            .sync(&self.admin, self.id, options, move |p| {
                sink.lock().unwrap().push(p)
            })
            .await
            .expect("sync starts");
        let events = events.lock().unwrap().clone();
        (report, events)
    }

    pub async fn sync(&self) -> SyncReport {
        self.sync_with(options()).await.0
    }

    pub async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        // The control API requires the simulator's admin credentials.
        let mut r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.sim.base_url()))
            .basic_auth("admin", Some("admin"));
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// integrity_check, and no incident twice.
    pub fn assert_consistent(&self, expected_total: u64) {
        let conn = open_connection(&self.core.data_dir().join(DB_FILE)).unwrap();
        let ok: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(ok, "ok");
        let stats = self.core.kb_stats(&self.admin).unwrap();
        assert_eq!(stats.incidents, expected_total);
        assert_eq!(
            stats.vectors, expected_total,
            "every incident has a vector in the index"
        );
        assert_eq!((stats.duplicates, stats.orphans), (0, 0));
    }
}
