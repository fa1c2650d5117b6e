//! Syncs through the network as it really is: rate limits without any header and maintenance
//! pages are waited out, a request budget paces a sync instead of failing it, a self-signed or
//! corporate-CA instance syncs with its CA file and fails as `tls` (naming the problem) without,
//! and OAuth client credentials sign in without a user password.
//! Needs the model (scripts/fetch-model.sh); skips without it unless SUPPORTBOT_REQUIRE_MODEL=1.

mod common;

use common::sync_fixture::{fixture, fixture_with, options};
use common::tls_front::{CertCase, TlsFront};
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use supportbot_core::integrations::{AuthType, IntegrationPatch};
use supportbot_core::store::{open_connection, DB_FILE};
use supportbot_core::sync::{SyncOutcome, SyncPhase, WaitFor};
use supportbot_core::ErrorCode;
use supportbot_sim::SimConfig;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bare_429s_and_maintenance_pages_are_waited_out_with_every_incident_stored() {
    let Some(f) = fixture(60, "admin", "admin").await else {
        return;
    };
    // Six 429s in a row without Retry-After or any rate-limit header: the production retry
    // decisions (scaled sleeps) must wait them out, not give up.
    f.control(
        Method::POST,
        "/sim/faults",
        Some(json!({"path_prefix": "/api/now/table/incident", "status": 429, "bare": true, "count": 6})),
    )
    .await;
    let (report, events) = f.sync_with(options()).await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!((report.added, report.total), (60, 60));
    let waits: Vec<_> = events
        .iter()
        .filter(|e| e.phase == SyncPhase::Waiting)
        .filter_map(|e| e.wait.clone())
        .collect();
    assert_eq!(waits.len(), 6, "one waiting event per 429: {waits:?}");
    assert!(waits.iter().all(|w| w.reason == WaitFor::RateLimit));
    assert!(
        waits[0].label.starts_with("waiting for rate limit (") && waits[0].label.ends_with(" s)"),
        "{}",
        waits[0].label
    );
    f.assert_consistent(60);

    // A maintenance window: 503 HTML pages, four in a row.
    f.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!([{"short_description": "VPN drops after the maintenance window"}])),
    )
    .await;
    f.control(
        Method::POST,
        "/sim/faults",
        Some(json!({"path_prefix": "/api/now/table/incident", "status": 503, "count": 4})),
    )
    .await;
    let (report, events) = f.sync_with(options()).await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!(report.added, 1);
    assert!(events
        .iter()
        .filter_map(|e| e.wait.as_ref())
        .any(|w| w.reason == WaitFor::Maintenance));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_budget_paces_the_sync_and_is_remembered() {
    let Some(f) = fixture(90, "admin", "admin").await else {
        return;
    };
    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                request_budget: Some(10),
                ..IntegrationPatch::default()
            },
        )
        .unwrap();
    let mut opts = options();
    // 90 incidents in pages of 10: more requests than the budget of 10 allows in an hour.
    opts.page_size = 10;
    // An hour's wait sleeps 0.36 s here; the decisions are the production ones.
    opts.connector.retry.time_scale = 0.0001;
    let (report, events) = f.sync_with(opts).await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!(report.added, 90);
    let budget_waits = events
        .iter()
        .filter_map(|e| e.wait.as_ref())
        .filter(|w| w.reason == WaitFor::RequestBudget)
        .count();
    assert!(budget_waits > 0, "the sync waited for its budget");
    let first = events
        .iter()
        .filter_map(|e| e.wait.as_ref())
        .find(|w| w.reason == WaitFor::RequestBudget)
        .unwrap();
    // The hour's oldest request is seconds old: the wait is most of an hour.
    assert!(first.seconds > 3000, "{first:?}");
    assert!(
        first.label.starts_with("waiting for rate limit"),
        "{}",
        first.label
    );

    // The send times are kept for the next process.
    let conn = open_connection(&f.core.data_dir().join(DB_FILE)).unwrap();
    let log: String = conn
        .query_row(
            "SELECT request_log FROM integrations WHERE id = ?1",
            [f.id],
            |r| r.get(0),
        )
        .unwrap();
    let sent: Vec<u64> = serde_json::from_str(&log).unwrap();
    assert!(sent.len() >= 10, "{sent:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corporate_ca_instance_syncs_with_its_ca_file_and_fails_as_tls_without() {
    let Some(f) = fixture(25, "admin", "admin").await else {
        return;
    };
    let front = TlsFront::start(f.sim.addr(), CertCase::CorporateCa).await;
    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                url: Some(front.url()),
                password: Some(SecretString::from("admin".to_string())),
                ..IntegrationPatch::default()
            },
        )
        .unwrap();
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Error);
    let e = report.error.unwrap();
    assert_eq!(e.code, ErrorCode::Tls, "{e}");
    assert!(
        e.message.contains("not signed by an authority"),
        "{}",
        e.message
    );
    assert!(e.message.contains("--ca-file"), "{}", e.message);
    let check = f.core.check_integration(&f.admin, f.id).await.unwrap();
    assert!(!check.ok);
    assert!(!check.steps[0].ok, "{check:?}");
    assert!(check.steps[0]
        .advice
        .as_deref()
        .unwrap()
        .contains("certificate"));

    // A file that is not PEM is refused with what to do; nothing changes.
    let refused = f
        .core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                ca_certificates: Some("not a certificate".into()),
                ..IntegrationPatch::default()
            },
        )
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Validation);
    assert!(refused.fields["ca_certificates"].contains("PEM"));

    f.core
        .edit_integration(
            &f.admin,
            f.id,
            IntegrationPatch {
                ca_certificates: Some(front.ca_pem.clone()),
                ..IntegrationPatch::default()
            },
        )
        .unwrap();
    let report = f.sync().await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!(report.added, 25);
    let check = f.core.check_integration(&f.admin, f.id).await.unwrap();
    assert!(check.ok, "{check:?}");
    assert!(check.steps[0].detail.contains("CA certificates"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_instance_syncs_with_its_own_certificate_as_the_ca_file() {
    let Some(f) = fixture(8, "admin", "admin").await else {
        return;
    };
    for case in [CertCase::SelfSigned, CertCase::SelfSignedCa] {
        let front = TlsFront::start(f.sim.addr(), case).await;
        let edit = |ca: Option<String>| IntegrationPatch {
            url: Some(front.url()),
            password: Some(SecretString::from("admin".to_string())),
            ca_certificates: ca,
            ..IntegrationPatch::default()
        };
        f.core
            .edit_integration(&f.admin, f.id, edit(Some(String::new())))
            .unwrap();
        let e = f.sync().await.error.unwrap();
        assert_eq!(e.code, ErrorCode::Tls, "{case:?}: {e}");
        f.core
            .edit_integration(&f.admin, f.id, edit(Some(front.ca_pem.clone())))
            .unwrap();
        let report = f.sync().await;
        assert_eq!(report.status, SyncOutcome::Success, "{case:?}: {report:?}");
        assert_eq!(report.total, 8);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificate_problems_are_named() {
    let Some(f) = fixture(5, "admin", "admin").await else {
        return;
    };
    for (case, words) in [
        (CertCase::Expired, "expired"),
        (CertCase::WrongHost, "another host name"),
    ] {
        let front = TlsFront::start(f.sim.addr(), case).await;
        f.core
            .edit_integration(
                &f.admin,
                f.id,
                IntegrationPatch {
                    url: Some(front.url()),
                    password: Some(SecretString::from("admin".to_string())),
                    // The CA is trusted: what is left is the certificate's own problem.
                    ca_certificates: Some(front.ca_pem.clone()),
                    ..IntegrationPatch::default()
                },
            )
            .unwrap();
        let e = f.sync().await.error.unwrap();
        assert_eq!(e.code, ErrorCode::Tls, "{case:?}: {e}");
        assert!(e.message.contains(words), "{case:?}: {}", e.message);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_client_credentials_sync_without_a_user_password() {
    let oauth_cc = |i: supportbot_core::integrations::NewIntegration| {
        supportbot_core::integrations::NewIntegration {
            auth: AuthType::Oauth2ClientCredentials,
            username: None,
            password: None,
            client_id: Some("demo-client".into()),
            client_secret: Some(SecretString::from("demo-secret".to_string())),
            ..i
        }
    };
    // Off by default, as on a real instance: refused, and the message says what to enable.
    let Some(off) = fixture_with(
        SimConfig {
            incidents: 10,
            ..SimConfig::default()
        },
        oauth_cc,
    )
    .await
    else {
        return;
    };
    let e = off.sync().await.error.unwrap();
    assert_eq!(e.code, ErrorCode::AuthInvalid, "{e}");
    assert!(
        e.message.contains("client credentials grant"),
        "{}",
        e.message
    );
    let stored = off.core.integration(&off.admin, off.id).unwrap();
    assert!(stored.username.is_none() && !stored.secrets.password);

    let Some(on) = fixture_with(
        SimConfig {
            incidents: 30,
            oauth_client_credentials: true,
            ..SimConfig::default()
        },
        oauth_cc,
    )
    .await
    else {
        return;
    };
    let report = on.sync().await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!(report.added, 30);
    // Tokens are reused across requests and renewed (with a new grant: no refresh token) once
    // they expire.
    on.control(Method::POST, "/sim/oauth/expire", None).await;
    on.control(
        Method::POST,
        "/sim/records/incident",
        Some(json!([{"short_description": "Printer queue stuck after token expiry"}])),
    )
    .await;
    let report = on.sync().await;
    assert_eq!(report.status, SyncOutcome::Success, "{report:?}");
    assert_eq!(report.added, 1);
}
