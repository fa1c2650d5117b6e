//! The sync pipeline end to end against the simulator over real HTTP, with the real embedding
//! model: completeness, idempotence, incremental updates and deletions, failures that turn the
//! integration red, partial syncs, retries, cancellation and one-sync-at-a-time.
//! Needs the model (scripts/fetch-model.sh); skips without it unless SUPPORTBOT_REQUIRE_MODEL=1.

mod common;

use std::sync::Arc;

use common::sync_fixture::{fixture, options};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::integrations::{IntegrationPatch, SyncStatus};
use supportbot_core::sync::{SyncOptions, SyncOutcome};
use supportbot_core::ErrorCode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_incremental_sync_is_complete_and_lossless() {
    let Some(f) = fixture(120, "admin", "admin").await else {
        return;
    };
    let (first, events) = f.sync_with(options()).await;
    assert_eq!(first.status, SyncOutcome::Success, "{first:?}");
    assert_eq!((first.added, first.updated, first.skipped), (120, 0, 0));
    assert_eq!(first.total, 120);
    f.assert_consistent(120);
    // Progress went through batches and ended at the total.
    let last = events.last().unwrap();
    assert_eq!(last.processed, 120);
    assert!(last.batch >= 120 / 16, "batches counted: {}", last.batch);
    assert_eq!(last.total_hint, Some(120));
    let integration = f.core.integration(&f.admin, f.id).unwrap();
    assert_eq!(integration.status, SyncStatus::Success);
    assert!(integration.last_sync.is_some());
    assert_eq!(integration.last_summary.unwrap().total, 120);

    // Nothing changed: nothing added or updated, yet a version is recorded.
    let again = f.sync().await;
    assert_eq!((again.added, again.updated), (0, 0));
    assert!(again.version > first.version);

    // One record changes, one is created, one is deleted at the source.
    let records = reqwest::Client::new()
        .get(format!(
            "{}/api/now/table/incident?sysparm_limit=2&sysparm_fields=sys_id",
            f.sim.base_url()
        ))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    let changed = records["result"][0]["sys_id"].as_str().unwrap().to_string();
    let removed = records["result"][1]["sys_id"].as_str().unwrap().to_string();
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
    let third = f.sync().await;
    assert_eq!(third.status, SyncOutcome::Success, "{third:?}");
    assert_eq!(
        (third.added, third.updated, third.deleted),
        (1, 1, 1),
        "{third:?}"
    );
    assert_eq!(third.total, 120);
    f.assert_consistent(120);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_credentials_turn_the_integration_red_until_fixed() {
    let Some(f) = fixture(20, "admin", "wrong-password").await else {
        return;
    };
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Error);
    let err = report.error.expect("an error");
    assert_eq!(err.code, ErrorCode::AuthInvalid);
    assert!(!err.message.contains("wrong-password"));
    let i = f.core.integration(&f.admin, f.id).unwrap();
    assert_eq!(i.status, SyncStatus::Error);
    assert_eq!(i.error.unwrap().code, "auth_invalid");

    // Rotating the credential fixes it.
    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                password: Some(SecretString::from("admin".to_string())),
                ..Default::default()
            },
        )
        .unwrap();
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Success);
    let i = f.core.integration(&f.admin, f.id).unwrap();
    assert_eq!(i.status, SyncStatus::Success);
    assert!(i.error.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forbidden_and_unreachable_are_reported_with_their_codes() {
    let Some(f) = fixture(10, "no.access", "no.access").await else {
        return;
    };
    let report = f.sync().await;
    assert_eq!(report.error.unwrap().code, ErrorCode::Forbidden);
    // Point it at a port nothing listens on.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                url: Some(format!("http://127.0.0.1:{dead}")),
                // Another origin: the password must be entered again for it.
                password: Some(SecretString::from("no.access".to_owned())),
                ..Default::default()
            },
        )
        .unwrap();
    let report = f.sync().await;
    assert_eq!(report.error.unwrap().code, ErrorCode::Unreachable);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_retried_and_malformed_records_make_it_partial() {
    let Some(f) = fixture(40, "admin", "admin").await else {
        return;
    };
    f.control(Method::POST, "/sim/faults", Some(json!({"path_prefix": "/api/now/table/incident", "status": 429, "retry_after": 1, "count": 2}))).await;
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!([{"short_description": "bad date", "sys_updated_on": "31/12/2025 10:00"}])),
    )
    .await;
    let report = f.sync().await;
    assert_eq!(
        report.status,
        SyncOutcome::Partial,
        "never success when something was skipped: {report:?}"
    );
    assert_eq!(report.skipped, 1);
    assert_eq!(report.skipped_records.len(), 1);
    assert_eq!(report.added, 40);
    assert_eq!(
        f.core.integration(&f.admin, f.id).unwrap().status,
        SyncStatus::Partial
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_sync_at_a_time_and_cancel_keeps_committed_batches() {
    let Some(f) = fixture(200, "admin", "admin").await else {
        return;
    };
    // Slow pages keep the sync running long enough to act on it.
    f.control(Method::POST, "/sim/faults", Some(json!({"path_prefix": "/api/now/table/incident", "kind": "slow", "delay_ms": 300, "rate": 1.0}))).await;
    let core = f.core.clone();
    let admin = f.admin.clone();
    let id = f.id;
    let first_batch = Arc::new(tokio::sync::Notify::new());
    let notify = first_batch.clone();
    let running = tokio::spawn(async move {
        core.sync(
            &admin,
            id,
            SyncOptions {
                page_size: 20,
                ..options()
            },
            move |p| {
                if p.batch >= 1 {
                    notify.notify_one();
                }
            },
        )
        .await
    });
    first_batch.notified().await;
    let second = f.core.sync(&f.admin, f.id, options(), |_| {}).await;
    assert_eq!(second.unwrap_err().code, ErrorCode::SyncRunning);
    assert!(f.core.integration(&f.admin, f.id).unwrap().running);
    assert!(f.core.cancel_sync(&f.admin, f.id).unwrap());
    let report = running.await.unwrap().unwrap();
    assert_eq!(report.status, SyncOutcome::Cancelled);
    assert!(
        report.added > 0 && report.added < 200,
        "committed batches kept: {}",
        report.added
    );
    f.assert_consistent(report.added);
    assert!(!f.core.integration(&f.admin, f.id).unwrap().running);

    // The next sync continues and completes without duplicates.
    f.control(Method::DELETE, "/sim/faults", None).await;
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Success);
    assert_eq!(report.total, 200);
    f.assert_consistent(200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_run_only_for_enabled_integrations_when_due() {
    let Some(f) = fixture(30, "admin", "admin").await else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    assert!(
        f.core.due_scheduled_syncs(now).unwrap().is_empty(),
        "no schedule, nothing due"
    );
    let bad = f
        .core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                schedule_minutes: Some(2),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(bad.fields.contains_key("schedule_minutes"));
    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                schedule_minutes: Some(15),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        f.core.due_scheduled_syncs(now).unwrap(),
        vec![f.id],
        "never ran: due now"
    );

    let report = f.core.run_scheduled_sync(f.id).await.unwrap();
    assert_eq!(report.status, SyncOutcome::Success);
    assert_eq!(report.added, 30);
    let later = time::OffsetDateTime::now_utc();
    assert!(
        f.core.due_scheduled_syncs(later).unwrap().is_empty(),
        "just ran"
    );
    assert_eq!(
        f.core
            .due_scheduled_syncs(later + time::Duration::minutes(16))
            .unwrap(),
        vec![f.id]
    );

    // Disabled: no automatic sync, manual still works.
    f.core
        .set_integration_enabled(&f.admin, f.id, false)
        .unwrap();
    assert!(f
        .core
        .due_scheduled_syncs(later + time::Duration::minutes(16))
        .unwrap()
        .is_empty());
    assert_eq!(f.sync().await.status, SyncOutcome::Success);

    // 0 turns it off.
    let i = f
        .core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                schedule_minutes: Some(0),
                enabled: Some(true),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(i.schedule_minutes, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_narrow_what_a_sync_pulls() {
    let Some(f) = fixture(80, "admin", "admin").await else {
        return;
    };
    let bad = f
        .core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                filters: Some(supportbot_core::integrations::Filters {
                    updated_from: Some("31/12/2025".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(bad.fields.contains_key("filters.updated_from"), "{bad:?}");

    let i = f
        .core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                filters: Some(supportbot_core::integrations::Filters {
                    priority: vec![" 1 - Critical ".into(), "2 - High".into(), "".into()],
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        i.filters.priority,
        ["1 - Critical", "2 - High"],
        "trimmed, empties dropped"
    );
    // What the source itself says matches.
    let expected = reqwest::Client::new()
        .get(format!(
            "{}/api/now/table/incident?sysparm_query=priorityIN1,2&sysparm_limit=1",
            f.sim.base_url()
        ))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse::<u64>()
        .unwrap();
    assert!(
        expected > 0 && expected < 80,
        "the generator makes mixed priorities: {expected}"
    );
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Success);
    assert_eq!(report.total, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletions_without_a_readable_log_go_at_an_ordinary_sync_by_id_listing() {
    // The read-only service account cannot read sys_audit_delete.
    let Some(f) = fixture(40, "svc.readonly", "readonly").await else {
        return;
    };
    assert_eq!(f.sync().await.added, 40);
    let records = reqwest::Client::new()
        .get(format!(
            "{}/api/now/table/incident?sysparm_limit=3&sysparm_fields=sys_id",
            f.sim.base_url()
        ))
        .basic_auth("admin", Some("admin"))
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap();
    for record in records["result"].as_array().unwrap() {
        let gone = record["sys_id"].as_str().unwrap();
        f.control(
            Method::DELETE,
            &format!("/sim/records/incident/{gone}"),
            None,
        )
        .await;
    }

    // An ordinary sync lists the ids (one cheap page) and removes the three.
    let incremental = f.sync().await;
    assert_eq!(incremental.status, SyncOutcome::Success, "{incremental:?}");
    assert_eq!((incremental.deleted, incremental.total), (3, 37));
    f.assert_consistent(37);
    // The version records them as deleted.
    let version = f
        .core
        .kb_version(&f.admin, incremental.version.unwrap(), 0, 50)
        .unwrap();
    assert_eq!(version.version.deleted, 3);
    assert_eq!(
        version
            .changes
            .iter()
            .filter(|c| c.change == "deleted")
            .count(),
        3
    );

    // A full reconcile finds nothing more.
    let full = f
        .sync_with(SyncOptions {
            full: true,
            ..options()
        })
        .await
        .0;
    assert_eq!(full.status, SyncOutcome::Success, "{full:?}");
    assert_eq!((full.deleted, full.total), (0, 37));
}

/// Rows hidden from the account by row-level ACLs (the simulator withholds the tail of every
/// page while `X-Total-Count` still counts it): the sync says what the source counted, how many
/// it could not read, and ends `partial`, never `success`.
#[tokio::test]
async fn acl_hidden_rows_make_a_partial_sync_with_the_source_count() {
    let Some(clean) = fixture(30, "admin", "admin").await else {
        return;
    };
    let report = clean.sync().await;
    assert_eq!(
        (report.status, report.source_total, report.unread),
        (SyncOutcome::Success, Some(30), 0)
    );
    let Some(f) = fixture(30, "admin", "admin").await else {
        return;
    };
    f.control(
        Method::POST,
        "/sim/faults",
        Some(json!({"path_prefix": "/api/now/table/incident", "kind": "short_page", "hide_rows": 3, "count": 1000})),
    )
    .await;
    let hidden = f.sync().await;
    assert_eq!(hidden.status, SyncOutcome::Partial, "{hidden:?}");
    assert_eq!(hidden.source_total, Some(30));
    assert!(
        hidden.unread > 0 && hidden.fetched + hidden.unread == 30,
        "{hidden:?}"
    );
    assert_eq!(hidden.total, hidden.fetched, "what was read is stored");
    assert!(
        hidden
            .notes
            .iter()
            .any(|n| n.contains("could be read") && n.contains("row-level ACLs")),
        "{:?}",
        hidden.notes
    );
    // The version records both numbers.
    let version = f
        .core
        .kb_version(&f.admin, hidden.version.unwrap(), 0, 1)
        .unwrap()
        .version;
    assert_eq!(version.source_total, Some(30));
    assert_eq!(version.unread, hidden.unread);
    assert_eq!(version.size_after, hidden.total);
}

/// A full reconcile whose source suddenly lists far fewer incidents (here 20 of 30 gone) does
/// not empty the knowledge base: the deletions are held, the sync is `partial` with a note
/// naming the confirmation; confirmed (`allow_mass_delete`), they go. A few deletions (3 of 30,
/// not more than 10 %) need no confirmation.
#[tokio::test]
async fn a_mass_deletion_is_held_until_confirmed() {
    let Some(f) = fixture(30, "admin", "admin").await else {
        return;
    };
    assert_eq!(f.sync().await.total, 30);
    let ids: Vec<String> = f
        .control(
            Method::GET,
            "/api/now/table/incident?sysparm_fields=sys_id&sysparm_limit=100",
            None,
        )
        .await["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["sys_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 30);
    let full = |allow_mass_delete| SyncOptions {
        full: true,
        allow_mass_delete,
        ..options()
    };
    for id in &ids[..3] {
        f.control(Method::DELETE, &format!("/sim/records/incident/{id}"), None)
            .await;
    }
    let few = f.sync_with(full(false)).await.0;
    assert_eq!(
        (few.status, few.deleted, few.held_deletions, few.total),
        (SyncOutcome::Success, 3, 0, 27),
        "{few:?}"
    );
    for id in &ids[3..23] {
        f.control(Method::DELETE, &format!("/sim/records/incident/{id}"), None)
            .await;
    }
    let held = f.sync_with(full(false)).await.0;
    assert_eq!(held.status, SyncOutcome::Partial, "{held:?}");
    assert_eq!((held.deleted, held.held_deletions, held.total), (0, 20, 27));
    assert!(
        held.notes
            .iter()
            .any(|n| n.contains("lost access") && n.contains("--allow-mass-delete")),
        "{:?}",
        held.notes
    );
    let confirmed = f.sync_with(full(true)).await.0;
    assert_eq!(
        (
            confirmed.status,
            confirmed.deleted,
            confirmed.held_deletions,
            confirmed.total
        ),
        (SyncOutcome::Success, 20, 0, 7)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jira_deletions_go_at_an_ordinary_sync_by_id_listing() {
    use supportbot_core::integrations::{AuthType, Kind, NewIntegration};
    // Jira Cloud: email + API token; Jira keeps no deletion log.
    let Some(f) = common::sync_fixture::fixture_with(
        supportbot_sim::SimConfig {
            incidents: 60,
            ..supportbot_sim::SimConfig::default()
        },
        |i| NewIntegration {
            kind: Kind::Jira,
            auth: AuthType::Token,
            username: Some("demo@example.com".into()),
            password: None,
            token: Some(SecretString::from("demo-token".to_owned())),
            ..i
        },
    )
    .await
    else {
        return;
    };
    let first = f.sync().await;
    assert_eq!(first.status, SyncOutcome::Success, "{first:?}");
    let before = first.total;
    assert!(before > 30, "{first:?}");
    let found: Value = reqwest::Client::new()
        .get(format!("{}/rest/api/3/search/jql", f.sim.base_url()))
        .query(&[
            ("jql", "project = SUP ORDER BY key ASC"),
            ("maxResults", "3"),
            ("fields", "summary"),
        ])
        .basic_auth("demo@example.com", Some("demo-token"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let keys: Vec<String> = found["issues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["key"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(keys.len(), 3, "{found}");
    for key in &keys {
        f.control(Method::DELETE, &format!("/sim/jira/issues/{key}"), None)
            .await;
    }
    let next = f.sync().await;
    assert_eq!(next.status, SyncOutcome::Success, "{next:?}");
    assert_eq!((next.deleted, next.total), (3, before - 3));
    for key in &keys {
        let hits = f
            .core
            .kb_incident(&f.admin, key, None)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(hits.code, ErrorCode::NotFound, "{key} still searchable");
    }
}
