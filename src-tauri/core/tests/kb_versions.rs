//! Knowledge-base versions end to end against the simulator and the sync pipeline: the version
//! list with stats and sizes, diffs, rollback of contents and vectors (and undo of it), sync
//! after a rollback, index repair and `kb check`, deleted integrations, permissions and the
//! rollback/sync exclusion. Tests that sync need the model (scripts/fetch-model.sh) and skip
//! without it unless SUPPORTBOT_REQUIRE_MODEL=1.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use reqwest::Method;
use rusqlite::types::Value as SqlValue;
use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::connectors::{ConnectorOptions, RetryPolicy};
use supportbot_core::kb::{RollbackPhase, VectorIndex, DIM};
use supportbot_core::secrets::StorePreference;
use supportbot_core::store::{open_connection, DB_FILE};
use supportbot_core::sync::{SyncJobs, SyncOptions, SyncOutcome, SyncReport};
use supportbot_core::{Actor, Core, ErrorCode, Role};
use supportbot_sim::{RunningSim, SimConfig};

mod common;

struct Fixture {
    dir: tempfile::TempDir,
    core: Arc<Core>,
    admin: Actor,
    sim: RunningSim,
    id: i64,
}

fn model_or_skip(core: &Core) -> bool {
    match core.knowledge_base().embedder() {
        Ok(_) => true,
        Err(e) if std::env::var("SUPPORTBOT_REQUIRE_MODEL").as_deref() == Ok("1") => {
            panic!("the embedding model is required: {e}")
        }
        Err(e) => {
            eprintln!("skipping: {e}");
            false
        }
    }
}

async fn fixture(incidents: usize) -> Option<Fixture> {
    let dir = tempfile::tempdir().unwrap();
    let core = Arc::new(Core::open_with(dir.path(), StorePreference::File).unwrap());
    if !model_or_skip(&core) {
        return None;
    }
    let sim = supportbot_sim::start(SimConfig {
        incidents,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let admin = core.actor(None, None).unwrap();
    let id = core
        .add_integration(&admin, common::sim_basic("Sim", &sim.base_url()))
        .unwrap()
        .id;
    Some(Fixture {
        dir,
        core,
        admin,
        sim,
        id,
    })
}

fn options() -> SyncOptions {
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

/// Every incident row, every column (embedding included), by row id.
type Rows = Vec<Vec<SqlValue>>;

/// What "the knowledge base as of now" means for comparisons: rows, and the index's answers.
#[derive(Debug, PartialEq)]
struct Snapshot {
    rows: Rows,
    index_keys: Vec<u64>,
    /// The top 5 keys for a few stored vectors used as queries.
    searches: Vec<Vec<u64>>,
}

impl Fixture {
    async fn sync(&self) -> SyncReport {
        let r = self
            .core
            .sync(&self.admin, self.id, options(), |_| {})
            .await
            .expect("sync starts");
        assert!(
            matches!(r.status, SyncOutcome::Success | SyncOutcome::Partial),
            "{r:?}"
        );
        r
    }

    async fn control(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let mut r = common::sim_request(&self.sim, method, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.unwrap_or(Value::Null)
    }

    /// The source's incidents: sys_id → (number, close_notes).
    async fn source(&self) -> Vec<(String, String)> {
        let v: Value = reqwest::Client::new()
            .get(format!(
                "{}/api/now/table/incident?sysparm_limit=10000&sysparm_fields=sys_id,number",
                self.sim.base_url()
            ))
            .basic_auth("admin", Some("admin"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut out: Vec<(String, String)> = v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["sys_id"].as_str().unwrap().to_string(),
                    r["number"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    async fn sys_ids(&self, n: usize) -> Vec<String> {
        self.source()
            .await
            .into_iter()
            .take(n)
            .map(|(id, _)| id)
            .collect()
    }

    fn conn(&self) -> rusqlite::Connection {
        open_connection(&self.dir.path().join(DB_FILE)).unwrap()
    }

    fn snapshot(&self) -> Snapshot {
        snapshot_of(&self.core, &self.conn())
    }

    fn index_path(&self) -> std::path::PathBuf {
        self.core.knowledge_base().index_path().to_path_buf()
    }

    /// A second `Core` on the same data directory: what the next start of the app sees.
    fn reopen(&self) -> Core {
        Core::open_with(self.dir.path(), StorePreference::File).unwrap()
    }
}

fn rows(conn: &rusqlite::Connection) -> Rows {
    let mut stmt = conn.prepare("SELECT * FROM incidents ORDER BY id").unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, SqlValue>(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<Rows>>()
        .unwrap()
}

fn snapshot_of(core: &Core, conn: &rusqlite::Connection) -> Snapshot {
    let rows = rows(conn);
    let queries: Vec<Vec<f32>> = {
        let mut stmt = conn
            .prepare("SELECT embedding FROM incidents ORDER BY external_id LIMIT 4")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
            .map(|b| blob_to_vec(&b.unwrap()))
            .collect()
    };
    let guard = core.knowledge_base().index(conn).unwrap();
    let ix = guard.as_ref().unwrap();
    let searches = queries
        .iter()
        .map(|q| {
            ix.search(q, 5)
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect()
        })
        .collect();
    Snapshot {
        rows,
        index_keys: ix.keys().unwrap(),
        searches,
    }
}

fn blob_to_vec(b: &[u8]) -> Vec<f32> {
    b.chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// (external id, record hash) of every incident: equal contents whatever the row ids.
fn contents(conn: &rusqlite::Connection) -> BTreeSet<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT external_id, record_hash FROM incidents")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn assert_check_ok(core: &Core, admin: &Actor) {
    let c = core.kb_check(admin).unwrap();
    assert!(c.ok, "{c:?}");
    assert_eq!(c.incidents, c.embedded);
    assert_eq!(c.index_vectors, c.embedded);
    assert_eq!((c.missing_from_index, c.orphans_in_index), (0, 0));
    assert_eq!(c.sqlite_integrity, "ok");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn versions_diffs_rollback_undo_and_sync_after_rollback() {
    let Some(f) = fixture(40).await else {
        return;
    };
    let v1 = f.sync().await.version.unwrap();
    let at_v1 = f.snapshot();
    let at_v1_contents = contents(&f.conn());

    // v2: one record changes, one is created, one is deleted at the source.
    let ids = f.sys_ids(3).await;
    let (changed, removed, changed_later) = (&ids[0], &ids[1], &ids[2]);
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!({"sys_id": changed, "close_notes": "Replaced the docking station."})),
    )
    .await;
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!({"short_description": "Badge reader at the lobby rejects every card"})),
    )
    .await;
    f.control(
        Method::DELETE,
        &format!("/sim/records/incident/{removed}"),
        None,
    )
    .await;
    let r2 = f.sync().await;
    assert_eq!((r2.added, r2.updated, r2.deleted), (1, 1, 1), "{r2:?}");
    let v2 = r2.version.unwrap();
    // v3: another text change.
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!({"sys_id": changed_later, "short_description": "VPN drops every ten minutes on hotel Wi-Fi"})),
    )
    .await;
    let r3 = f.sync().await;
    assert_eq!((r3.added, r3.updated, r3.deleted), (0, 1, 0), "{r3:?}");
    let v3 = r3.version.unwrap();
    let at_v3 = f.snapshot();
    let at_v3_contents = contents(&f.conn());

    // The list: newest first, stats and the size after each version.
    let list = f.core.kb_versions(&f.admin).unwrap();
    assert_eq!(
        list.iter().map(|v| v.id).collect::<Vec<_>>(),
        vec![v3, v2, v1]
    );
    assert_eq!(
        (list[2].added, list[2].size_after, list[2].kind.as_str()),
        (40, 40, "sync")
    );
    assert_eq!(
        (
            list[1].added,
            list[1].updated,
            list[1].deleted,
            list[1].size_after
        ),
        (1, 1, 1, 40)
    );
    assert_eq!(list[1].source, "Sim");
    assert_eq!(list[1].integration_id, Some(f.id));
    assert_eq!(list[1].status, "success");
    assert!(list[1].finished_at.is_some());
    assert_eq!(list[1].rollback_to, None);

    // The diff of v2: an updated record with the changed field before → after, an added and
    // a deleted one.
    let d = f.core.kb_version(&f.admin, v2, 0, 100).unwrap();
    assert_eq!(d.changes_total, 3);
    assert_eq!(d.version.id, v2);
    let by_kind = |k: &str| d.changes.iter().find(|c| c.change == k).unwrap().clone();
    let upd = by_kind("updated");
    let resolution = upd
        .fields
        .iter()
        .find(|f| f.field == "resolution")
        .expect("resolution changed");
    assert_eq!(
        resolution.after.as_deref(),
        Some("Replaced the docking station.")
    );
    assert_ne!(resolution.before, resolution.after);
    assert!(
        upd.fields.iter().all(
            |f| !["record_hash", "text_hash", "embedding", "id", "version_id"]
                .contains(&f.field.as_str())
        ),
        "internal fields stay out of diffs: {:?}",
        upd.fields
    );
    assert!(upd.before.is_some() && upd.after.is_some());
    assert!(!upd.number.is_empty());
    let add = by_kind("added");
    assert!(add.before.is_none() && add.fields.is_empty());
    assert_eq!(
        add.short_description,
        "Badge reader at the lobby rejects every card"
    );
    assert_eq!(
        add.after.as_ref().unwrap()["short_description"],
        "Badge reader at the lobby rejects every card"
    );
    let del = by_kind("deleted");
    assert!(del.before.is_some() && del.after.is_none() && del.fields.is_empty());
    assert_eq!(
        del.before.as_ref().unwrap()["external_id"],
        removed.as_str()
    );
    // Paging, and the limit's bounds.
    let page = f.core.kb_version(&f.admin, v2, 1, 1).unwrap();
    assert_eq!(
        (page.changes.len(), page.offset, page.changes_total),
        (1, 1, 3)
    );
    assert_eq!(
        f.core.kb_version(&f.admin, v2, 0, 1001).unwrap_err().code,
        ErrorCode::Validation
    );
    assert_eq!(
        f.core.kb_version(&f.admin, 999, 0, 10).unwrap_err().code,
        ErrorCode::NotFound
    );
    // "after" of v2's change to a record v3 changed again is the state right after v2.
    let d3 = f.core.kb_version(&f.admin, v3, 0, 100).unwrap();
    assert_eq!(d3.changes[0].fields[0].field, "short_description");

    // Roll back to v1: contents and vectors exactly as then.
    let mut phases = Vec::new();
    let rb = f
        .core
        .kb_rollback(&f.admin, v1, |p| phases.push(p.phase))
        .unwrap();
    assert_eq!(rb.kind, "rollback");
    assert_eq!(rb.notes, format!("Rollback to v{v1}"));
    assert_eq!(rb.rollback_to, Some(v1));
    assert_eq!(rb.status, "success");
    assert_eq!((rb.added, rb.updated, rb.deleted), (1, 2, 1), "{rb:?}");
    assert_eq!(rb.size_after, 40);
    assert_eq!(phases.last(), Some(&RollbackPhase::Done));
    assert!(phases.contains(&RollbackPhase::Undo) && phases.contains(&RollbackPhase::Index));
    assert_eq!(f.snapshot(), at_v1, "rows, vectors and search as of v1");
    assert_check_ok(&f.core, &f.admin);
    // The same on the next start (the saved index file agrees too).
    let again = f.reopen();
    assert_eq!(snapshot_of(&again, &f.conn()), at_v1);
    drop(again);
    assert_eq!(f.core.kb_versions(&f.admin).unwrap()[0].id, rb.id);
    assert_eq!(
        f.core
            .kb_version(&f.admin, rb.id, 0, 100)
            .unwrap()
            .changes_total,
        4
    );

    // Refusals: the latest version, an unknown one.
    let latest = f.core.kb_rollback(&f.admin, rb.id, |_| {}).unwrap_err();
    assert_eq!(latest.code, ErrorCode::Validation);
    assert!(latest.message.contains("latest"), "{}", latest.message);
    assert_eq!(
        f.core.kb_rollback(&f.admin, 999, |_| {}).unwrap_err().code,
        ErrorCode::NotFound
    );

    // Undo the rollback: back to v3 exactly.
    let undo = f.core.kb_rollback(&f.admin, rb.id - 1, |_| {}).unwrap();
    assert_eq!(undo.rollback_to, Some(v3));
    assert_eq!(f.snapshot(), at_v3, "undoing the rollback restores v3");
    assert_check_ok(&f.core, &f.admin);
    // Nothing changed at the source since v3, so a sync now changes nothing.
    let quiet = f.sync().await;
    assert_eq!(
        (quiet.added, quiet.updated, quiet.deleted),
        (0, 0, 0),
        "{quiet:?}"
    );

    // Roll back to v1 again; the next incremental sync re-applies every later source change.
    f.core.kb_rollback(&f.admin, v1, |_| {}).unwrap();
    assert_eq!(contents(&f.conn()), at_v1_contents);
    let after = f.sync().await;
    assert_eq!(
        (after.added, after.updated, after.deleted),
        (1, 2, 1),
        "{after:?}"
    );
    let conn = f.conn();
    let source = f.source().await;
    let local: Vec<(String, String)> = {
        let mut stmt = conn
            .prepare("SELECT external_id, number FROM incidents ORDER BY external_id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        local, source,
        "equal to the source: count, numbers, no duplicates"
    );
    assert_eq!(contents(&conn), at_v3_contents);
    assert_check_ok(&f.core, &f.admin);
    let stats = f.core.kb_stats(&f.admin).unwrap();
    assert_eq!(
        (stats.incidents, stats.duplicates, stats.orphans),
        (40, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn index_is_repaired_from_sqlite_and_check_reports_damage() {
    let Some(f) = fixture(30).await else {
        return;
    };
    let v1 = f.sync().await.version.unwrap();
    let ids = f.sys_ids(1).await;
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(
            json!({"sys_id": ids[0], "description": "The printer on floor 3 jams on duplex jobs."}),
        ),
    )
    .await;
    f.sync().await;
    let now = f.snapshot();
    assert_check_ok(&f.core, &f.admin);

    // A deleted index file is rebuilt on next use; then check is ok.
    std::fs::remove_file(f.index_path()).unwrap();
    let next = f.reopen();
    let admin = next.actor(None, None).unwrap();
    assert_eq!(next.kb_stats(&admin).unwrap().vectors, 30);
    assert!(f.index_path().exists(), "rebuilt and saved");
    assert_eq!(snapshot_of(&next, &f.conn()), now);
    assert_check_ok(&next, &admin);
    drop(next);

    // A damaged file: check (in a fresh process) reports it and says what to do; rebuild fixes.
    let mut bytes = std::fs::read(f.index_path()).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0xff;
    std::fs::write(f.index_path(), &bytes).unwrap();
    let next = f.reopen();
    let c = next.kb_check(&admin).unwrap();
    assert!(!c.ok);
    assert!(
        c.problems.iter().any(|p| p.contains("kb rebuild")),
        "{:?}",
        c.problems
    );
    let mut seen = Vec::new();
    let report = next.kb_rebuild(&admin, |p| seen.push(p)).unwrap();
    assert_eq!((report.vectors, report.reembedded), (30, 0));
    assert_eq!(seen.last().map(|p| (p.done, p.total)), Some((30, 30)));
    assert_check_ok(&next, &admin);
    assert_eq!(snapshot_of(&next, &f.conn()), now);
    drop(next);

    // A stale file of the same size (vectors of another state) is caught by check.
    let before_rollback = std::fs::read(f.index_path()).unwrap();
    f.core.kb_rollback(&f.admin, v1, |_| {}).unwrap();
    let rolled = f.snapshot();
    std::fs::write(f.index_path(), &before_rollback).unwrap();
    let next = f.reopen();
    let c = next.kb_check(&admin).unwrap();
    assert!(!c.ok, "stale vectors must be reported: {c:?}");
    assert!(
        c.problems.iter().any(|p| p.contains("differ")),
        "{:?}",
        c.problems
    );
    drop(next);

    // The process dying between the rollback's commit and its index save leaves exactly this
    // file plus the dirty mark the transaction wrote: the next open rebuilds, though the sizes
    // agree.
    f.conn()
        .execute(
            "INSERT OR REPLACE INTO settings (key, value) VALUES ('kb_index_dirty', '1')",
            [],
        )
        .unwrap();
    let next = f.reopen();
    assert_eq!(snapshot_of(&next, &f.conn()), rolled);
    assert_check_ok(&next, &admin);

    // Rows without a vector are re-embedded by a rebuild.
    f.conn()
        .execute(
            "UPDATE incidents SET embedding = NULL, model = NULL WHERE id IN (SELECT id FROM incidents LIMIT 2)",
            [],
        )
        .unwrap();
    let c = next.kb_check(&admin).unwrap();
    assert!(!c.ok && c.embedded == 28, "{c:?}");
    let report = next.kb_rebuild(&admin, |_| {}).unwrap();
    assert_eq!((report.vectors, report.reembedded), (30, 2));
    assert_check_ok(&next, &admin);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_integration_keeps_its_data_and_versions_which_still_roll_back() {
    let Some(f) = fixture(20).await else {
        return;
    };
    let v1 = f.sync().await.version.unwrap();
    let at_v1 = f.snapshot();
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!({"short_description": "Laptop fan is loud after the BIOS update"})),
    )
    .await;
    f.sync().await;
    f.core.remove_integration(&f.admin, f.id).unwrap();

    let list = f.core.kb_versions(&f.admin).unwrap();
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .all(|v| v.source == "Sim" && v.integration_id == Some(f.id)));
    assert_eq!(list[0].size_after, 21);
    assert_eq!(f.core.kb_stats(&f.admin).unwrap().incidents, 21);
    assert_check_ok(&f.core, &f.admin);

    let rb = f.core.kb_rollback(&f.admin, v1, |_| {}).unwrap();
    assert_eq!(
        (rb.added, rb.updated, rb.deleted, rb.size_after),
        (0, 0, 1, 20)
    );
    assert_eq!(f.snapshot(), at_v1);
    assert_eq!(
        f.core.kb_version(&f.admin, rb.id, 0, 10).unwrap().changes[0].change,
        "deleted"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_is_refused_while_a_sync_runs() {
    let Some(f) = fixture(200).await else {
        return;
    };
    f.sync().await;
    f.control(Method::POST, "/sim/faults", Some(json!({"path_prefix": "/api/now/table/incident", "kind": "slow", "delay_ms": 300, "rate": 1.0}))).await;
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!({"short_description": "Monitor flickers when docked"})),
    )
    .await;
    let core = f.core.clone();
    let admin = f.admin.clone();
    let id = f.id;
    let started = Arc::new(tokio::sync::Notify::new());
    let notify = started.clone();
    let running = tokio::spawn(async move {
        core.sync(
            &admin,
            id,
            SyncOptions {
                full: true,
                ..options()
            },
            move |_| notify.notify_one(),
        )
        .await
    });
    started.notified().await;
    let err = f.core.kb_rollback(&f.admin, 1, |_| {}).unwrap_err();
    assert_eq!(err.code, ErrorCode::SyncRunning);
    assert!(err.message.contains("Sim"), "{}", err.message);
    assert_eq!(
        f.core.kb_rebuild(&f.admin, |_| {}).unwrap_err().code,
        ErrorCode::SyncRunning
    );
    f.core.cancel_sync(&f.admin, f.id).unwrap();
    running.await.unwrap().unwrap();
}

#[test]
fn syncs_and_rollbacks_exclude_each_other() {
    let jobs = SyncJobs::default();
    let sync = jobs.start(7, "Alpha").unwrap();
    let err = jobs.start_exclusive("rollback").err().unwrap();
    assert_eq!(err.code, ErrorCode::SyncRunning);
    assert!(err.message.contains("Alpha"));
    drop(sync);
    let rollback = jobs.start_exclusive("rollback").unwrap();
    let err = jobs.start(7, "Alpha").err().unwrap();
    assert_eq!(err.code, ErrorCode::SyncRunning);
    assert!(err.message.contains("rollback"), "{}", err.message);
    assert_eq!(
        jobs.start_exclusive("index rebuild").err().unwrap().code,
        ErrorCode::SyncRunning
    );
    drop(rollback);
    assert!(jobs.start(7, "Alpha").is_ok());
}

#[test]
fn only_admins_may_roll_back() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(dir.path(), StorePreference::File).unwrap();
    let admin = core.actor(None, None).unwrap();
    // Other profiles need the admin to have a password first.
    core.set_profile_password(
        &admin,
        "Admin",
        None,
        &SecretString::from("admin-pw".to_string()),
    )
    .unwrap();
    for role in [Role::Operator, Role::Viewer] {
        let name = format!("{role:?}");
        core.add_profile(&admin, &name, role, None).unwrap();
        let actor = core.actor(Some(&name), None).unwrap();
        let err = core.kb_rollback(&actor, 1, |_| {}).unwrap_err();
        assert_eq!(err.code, ErrorCode::PermissionDenied, "{role:?}");
        assert!(err.message.contains("kb.rollback"), "{}", err.message);
        // Reading history is open to every role.
        assert!(core.kb_versions(&actor).unwrap().is_empty());
        assert!(core.kb_check(&actor).unwrap().ok);
    }
    assert!(!Role::Operator
        .permissions()
        .iter()
        .any(|p| p.as_str() == "kb.rollback"));
    assert!(Role::Admin
        .permissions()
        .iter()
        .any(|p| p.as_str() == "kb.rollback"));
    // An admin passes the permission check and gets the "no such version" answer.
    assert_eq!(
        core.kb_rollback(&admin, 1, |_| {}).unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn index_lists_its_keys_and_returns_stored_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let path: &Path = &dir.path().join("v.usearch");
    let mut ix = VectorIndex::create(path).unwrap();
    assert!(ix.keys().unwrap().is_empty());
    let vector = |k: u64| -> Vec<f32> {
        let mut v: Vec<f32> = (0..DIM)
            .map(|i| ((i as u64 * 31 + k * 17) % 97) as f32)
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    for k in 1..=60u64 {
        ix.add(k * 3, &vector(k)).unwrap();
    }
    for k in [3u64, 30, 90] {
        assert!(ix.remove(k).unwrap());
    }
    // Re-adding a key replaces its vector, never duplicates the key.
    ix.add(6, &vector(2)).unwrap();
    let expected: Vec<u64> = (1..=60u64)
        .map(|k| k * 3)
        .filter(|k| ![3, 30, 90].contains(k))
        .collect();
    assert_eq!(ix.keys().unwrap(), expected);
    ix.save().unwrap();
    let loaded = VectorIndex::open(path).unwrap();
    assert_eq!(loaded.keys().unwrap(), expected);
    let got = loaded.get(6).unwrap().expect("stored");
    let want = vector(2);
    assert!(got.iter().zip(&want).all(|(a, b)| (a - b).abs() < 2e-3));
    assert_eq!(loaded.get(3).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_images_without_vectors_are_re_embedded_on_rollback() {
    let Some(f) = fixture(15).await else {
        return;
    };
    let v1 = f.sync().await.version.unwrap();
    let at_v1 = f.snapshot();
    let ids = f.sys_ids(2).await;
    for id in &ids {
        f.control(
            Method::POST,
            "/sim/records/incident",
            Some(json!({"sys_id": id, "short_description": "Outlook asks for the password again and again"})),
        )
        .await;
    }
    let v2 = f.sync().await.version.unwrap();
    // What a version written before migration 7 looks like: no vector, no bookkeeping keys.
    f.conn()
        .execute(
            "UPDATE version_changes SET before_embedding = NULL,
                before_json = json_remove(before_json, '$.integration_id', '$.source_name', '$.model')
             WHERE version_id = ?1",
            [v2],
        )
        .unwrap();
    let rb = f.core.kb_rollback(&f.admin, v1, |_| {}).unwrap();
    assert_eq!(rb.updated, 2);
    assert!(rb.notes.starts_with(&format!("Rollback to v{v1}")));
    assert!(rb.notes.contains("re-embedded"), "{}", rb.notes);
    let now = f.snapshot();
    // Everything but the re-embedded vectors is identical; those agree to float noise.
    let embedding_col = 23;
    assert_eq!(now.rows.len(), at_v1.rows.len());
    for (a, b) in now.rows.iter().zip(&at_v1.rows) {
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            if i != embedding_col {
                assert_eq!(x, y, "column {i}");
                continue;
            }
            let (SqlValue::Blob(x), SqlValue::Blob(y)) = (x, y) else {
                panic!("embeddings are blobs")
            };
            let dot: f32 = blob_to_vec(x)
                .iter()
                .zip(blob_to_vec(y))
                .map(|(p, q)| p * q)
                .sum();
            assert!(
                dot > 0.999,
                "re-embedded vector close to the original: {dot}"
            );
        }
    }
    assert_eq!(now.index_keys, at_v1.index_keys);
    assert_check_ok(&f.core, &f.admin);
}
