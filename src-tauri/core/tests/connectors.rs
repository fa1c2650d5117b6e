//! The ITSM connectors over real HTTP against the simulator: sign-in and its failures, complete
//! keyset paging despite ties, concurrent updates, ACL-short pages and injected faults, OAuth
//! renewal, deletions, Jira Cloud and Data Center, and filters.

use std::collections::{HashMap, HashSet};

use reqwest::Method;
use secrecy::SecretString;
use serde_json::{json, Value};
use supportbot_core::connectors::{
    Connector, ConnectorOptions, Credentials, Filters, Page, RetryPolicy, SourceIncident, Watermark,
};
use supportbot_core::integrations::{AuthType, Kind};
use supportbot_core::{CoreError, ErrorCode};
use supportbot_sim::{RunningSim, SimConfig};

// ---------------------------------------------------------------------------------------------
// Helpers

async fn sim(incidents: usize) -> RunningSim {
    supportbot_sim::start(SimConfig {
        incidents,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

fn secret(value: &str) -> Option<SecretString> {
    Some(SecretString::from(value.to_owned()))
}

fn options() -> ConnectorOptions {
    ConnectorOptions {
        retry: RetryPolicy::fast(),
        ..ConnectorOptions::default()
    }
}

fn connector(kind: Kind, auth: AuthType, url: &str, credentials: Credentials) -> Connector {
    Connector::new(kind, auth, url, credentials, options()).expect("connector")
}

fn basic(sim: &RunningSim, user: &str, password: &str) -> Connector {
    connector(
        Kind::Servicenow,
        AuthType::Basic,
        &sim.base_url(),
        Credentials {
            username: Some(user.into()),
            password: secret(password),
            ..Credentials::default()
        },
    )
}

fn oauth(sim: &RunningSim, client_secret: &str) -> Connector {
    connector(
        Kind::Servicenow,
        AuthType::Oauth2,
        &sim.base_url(),
        Credentials {
            username: Some("admin".into()),
            password: secret("admin"),
            client_id: Some("demo-client".into()),
            client_secret: secret(client_secret),
            ..Credentials::default()
        },
    )
}

fn jira_cloud(sim: &RunningSim, token: &str) -> Connector {
    connector(
        Kind::Jira,
        AuthType::Token,
        &sim.base_url(),
        Credentials {
            username: Some("demo@example.com".into()),
            token: secret(token),
            ..Credentials::default()
        },
    )
}

fn jira_dc(sim: &RunningSim) -> Connector {
    connector(
        Kind::Jira,
        AuthType::Token,
        &format!("{}/dc", sim.base_url()),
        Credentials {
            token: secret("demo-pat"),
            ..Credentials::default()
        },
    )
}

async fn control(sim: &RunningSim, method: Method, path: &str, body: Option<Value>) -> Value {
    // The control API requires the simulator's admin credentials.
    let mut request = reqwest::Client::new()
        .request(method, format!("{}{path}", sim.base_url()))
        .basic_auth("admin", Some("admin"));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("control request");
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    assert!(status.is_success(), "{path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn fault(sim: &RunningSim, rule: Value) {
    control(sim, Method::POST, "/sim/faults", Some(rule)).await;
}

async fn fault_hits(sim: &RunningSim) -> u64 {
    let rules = control(sim, Method::GET, "/sim/faults", None).await;
    rules["result"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| r["hits"].as_u64().unwrap_or(0))
        .sum()
}

async fn upsert(sim: &RunningSim, records: Value) -> Vec<Value> {
    let stored = control(sim, Method::POST, "/sim/records/incident", Some(records)).await;
    stored["result"]
        .as_array()
        .cloned()
        .expect("stored records")
}

/// Every incident sys_id matching an encoded query, read directly as admin.
async fn sys_ids(sim: &RunningSim, query: &str) -> HashSet<String> {
    let response = reqwest::Client::new()
        .get(format!("{}/api/now/table/incident", sim.base_url()))
        .basic_auth("admin", Some("admin"))
        .header("Accept", "application/json")
        .query(&[
            ("sysparm_fields", "sys_id"),
            ("sysparm_limit", "1000000"),
            ("sysparm_query", query),
        ])
        .send()
        .await
        .expect("table request");
    let body: Value = response.json().await.expect("json");
    body["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| r["sys_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn jira_issue_count(sim: &RunningSim) -> usize {
    let info = control(sim, Method::GET, "/sim", None).await;
    info["jira_issues"].as_u64().expect("jira_issues") as usize
}

/// What a whole sync returned.
#[derive(Default)]
struct Run {
    incidents: Vec<SourceIncident>,
    pages: Vec<Page>,
    last: Option<Watermark>,
}

impl Run {
    fn ids(&self) -> HashSet<String> {
        self.incidents
            .iter()
            .map(|i| i.external_id.clone())
            .collect()
    }

    /// Ids delivered more than once, with their count.
    fn repeats(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for incident in &self.incidents {
            *counts.entry(incident.external_id.clone()).or_insert(0) += 1;
        }
        counts.retain(|_, n| *n > 1);
        counts
    }

    fn notes(&self) -> Vec<String> {
        self.pages.iter().flat_map(|p| p.notes.clone()).collect()
    }
}

/// The pipeline's loop: pages until `done`, calling `between` after each page.
async fn sync_with<F, Fut>(
    connector: &mut Connector,
    start: Option<Watermark>,
    filters: &Filters,
    page_size: usize,
    mut between: F,
) -> Result<Run, CoreError>
where
    F: FnMut(usize, &Page) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut run = Run {
        last: start,
        ..Run::default()
    };
    for index in 0..100_000 {
        let page = connector
            .next_page(run.last.as_ref(), filters, page_size)
            .await?;
        assert!(
            page.incidents.len() <= page_size,
            "page of {} for size {page_size}",
            page.incidents.len()
        );
        run.incidents.extend(page.incidents.iter().cloned());
        if page.next.is_some() {
            run.last = page.next.clone();
        }
        let done = page.done;
        between(index, &page).await;
        run.pages.push(page);
        if done {
            return Ok(run);
        }
    }
    panic!("paging never ended");
}

async fn sync(
    connector: &mut Connector,
    filters: &Filters,
    page_size: usize,
) -> Result<Run, CoreError> {
    sync_with(connector, None, filters, page_size, |_, _| async {}).await
}

fn detail(e: &CoreError) -> &str {
    e.fields
        .get("detail")
        .map(String::as_str)
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Signing in

#[tokio::test]
async fn basic_and_oauth_sign_ins_pass_the_connection_test() {
    let sim = sim(20).await;
    let check = basic(&sim, "admin", "admin")
        .test_connection()
        .await
        .unwrap();
    assert_eq!(check.system, "ServiceNow");
    assert!(check.notes.is_empty(), "{:?}", check.notes);

    let check = oauth(&sim, "demo-secret").test_connection().await.unwrap();
    assert!(check.notes.is_empty(), "{:?}", check.notes);

    // The read-only service account may not read journals: a note, not a failure.
    let check = basic(&sim, "svc.readonly", "readonly")
        .test_connection()
        .await
        .unwrap();
    assert_eq!(check.notes.len(), 1, "{:?}", check.notes);
    assert!(check.notes[0].contains("sys_journal_field"));
    sim.shutdown().await;
}

#[tokio::test]
async fn refused_sign_ins_map_to_the_guides_errors() {
    let sim = sim(5).await;
    let cases: Vec<(&str, Connector, ErrorCode, &str)> = vec![
        (
            "wrong password",
            basic(&sim, "admin", "Wr0ng-Passw0rd!"),
            ErrorCode::AuthInvalid,
            "Verify the username and password",
        ),
        (
            "no roles",
            basic(&sim, "no.access", "no.access"),
            ErrorCode::Forbidden,
            "read permission",
        ),
        (
            "MFA enforced",
            basic(&sim, "mfa.user", "mfa.user"),
            ErrorCode::AuthInvalid,
            "multi-factor",
        ),
        (
            "OAuth client secret wrong",
            oauth(&sim, "Wr0ng-Passw0rd!"),
            ErrorCode::AuthInvalid,
            "password grant is enabled",
        ),
        (
            "Jira token wrong",
            jira_cloud(&sim, "Wr0ng-Passw0rd!"),
            ErrorCode::AuthInvalid,
            "API token",
        ),
    ];
    for (name, mut connector, code, advice) in cases {
        let e = connector.test_connection().await.unwrap_err();
        assert_eq!(e.code, code, "{name}: {e}");
        assert!(e.message.contains(advice), "{name}: {}", e.message);
        assert!(!detail(&e).is_empty(), "{name}: no detail");
        // The secret appears nowhere: not in the message, the detail or the Debug output.
        for text in [e.to_string(), format!("{e:?}"), format!("{connector:?}")] {
            assert!(
                !text.contains("Wr0ng-Passw0rd!"),
                "{name} leaks the secret: {text}"
            );
            assert!(
                !text.contains("demo-secret"),
                "{name} leaks the client secret"
            );
        }
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_closed_port_is_unreachable_with_the_cause_in_the_detail() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut connector = connector(
        Kind::Servicenow,
        AuthType::Basic,
        &format!("http://127.0.0.1:{port}"),
        Credentials {
            username: Some("admin".into()),
            password: secret("admin"),
            ..Credentials::default()
        },
    );
    let e = connector.test_connection().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Unreachable, "{e}");
    assert!(e.message.contains("Verify the URL"), "{}", e.message);
    assert!(detail(&e).contains("connection refused"), "{}", detail(&e));
}

#[tokio::test]
async fn missing_credentials_are_validation_errors() {
    let cases = [
        (
            Kind::Servicenow,
            AuthType::Basic,
            Credentials::default(),
            "username",
        ),
        (
            Kind::Servicenow,
            AuthType::Oauth2,
            Credentials {
                username: Some("admin".into()),
                password: secret("admin"),
                ..Credentials::default()
            },
            "client_id",
        ),
        (Kind::Jira, AuthType::Token, Credentials::default(), "token"),
    ];
    for (kind, auth, credentials, field) in cases {
        let e = Connector::new(kind, auth, "https://x.example.com", credentials, options())
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
        assert!(e.fields.contains_key(field), "{field}: {e:?}");
    }
    let e = Connector::new(
        Kind::Jira,
        AuthType::Token,
        "not a url",
        Credentials {
            token: secret("t"),
            ..Credentials::default()
        },
        options(),
    )
    .unwrap_err();
    assert!(e.fields.contains_key("url"));
}

// ---------------------------------------------------------------------------------------------
// Paging ServiceNow

#[tokio::test]
async fn twelve_hundred_incidents_in_small_pages_arrive_exactly_once() {
    let sim = sim(1_250).await;
    let expected = sys_ids(&sim, "").await;
    assert_eq!(expected.len(), 1_250);
    let mut connector = basic(&sim, "admin", "admin");
    let run = sync(&mut connector, &Filters::default(), 97).await.unwrap();
    assert_eq!(run.ids(), expected);
    assert!(run.repeats().is_empty(), "{:?}", run.repeats());
    assert!(run.pages.iter().all(|p| p.skipped.is_empty()));
    assert_eq!(run.pages[0].total_hint, Some(1_250));

    // Order is (updated, sys_id) ascending across pages, and the fields are filled in.
    let keys: Vec<(String, String)> = run
        .incidents
        .iter()
        .map(|i| (i.updated_at.clone(), i.external_id.clone()))
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "not in keyset order");
    let hex_id = |s: &str| s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit());
    for incident in &run.incidents {
        assert!(incident.number.starts_with("INC"), "{incident:?}");
        assert!(incident.updated_at.ends_with('Z') && incident.updated_at.contains('T'));
        assert!(!incident.short_description.is_empty());
        assert!(incident.link.contains(&incident.external_id));
        assert!(
            [
                "New",
                "In Progress",
                "On Hold",
                "Resolved",
                "Closed",
                "Canceled"
            ]
            .contains(&incident.state.as_str()),
            "{}",
            incident.state
        );
        assert!(incident.priority.contains(" - "), "{}", incident.priority);
        let people = [
            &incident.assigned_to,
            &incident.resolved_by,
            &incident.caller,
        ];
        for name in people.into_iter().flatten() {
            assert!(!hex_id(name), "name not resolved: {name}");
        }
    }
    let closed: Vec<&SourceIncident> = run
        .incidents
        .iter()
        .filter(|i| i.state == "Closed")
        .collect();
    assert!(!closed.is_empty());
    assert!(closed
        .iter()
        .all(|i| !i.resolution.is_empty() && i.resolved_at.is_some()));
    assert!(closed.iter().any(|i| i.resolved_by.is_some()));
    let with_journal = run
        .incidents
        .iter()
        .filter(|i| !i.comments.is_empty())
        .count();
    assert!(
        with_journal > 100,
        "only {with_journal} incidents with journal entries"
    );
    assert!(run
        .incidents
        .iter()
        .flat_map(|i| &i.comments)
        .any(|c| c.starts_with("Work note by ")));
    sim.shutdown().await;
}

#[tokio::test]
async fn the_read_only_account_syncs_without_journals_and_says_so() {
    let sim = sim(60).await;
    let mut connector = basic(&sim, "svc.readonly", "readonly");
    let run = sync(&mut connector, &Filters::default(), 25).await.unwrap();
    assert_eq!(run.ids(), sys_ids(&sim, "").await);
    assert!(run.incidents.iter().all(|i| i.comments.is_empty()));
    let notes = run.notes();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(notes[0].contains("sys_journal_field"));
    sim.shutdown().await;
}

#[tokio::test]
async fn same_second_ties_across_page_boundaries_are_not_lost() {
    let sim = sim(40).await;
    let existing: Vec<String> = sys_ids(&sim, "").await.into_iter().take(6).collect();
    let tie = "2025-07-01 00:00:00";
    let mut records: Vec<Value> = existing
        .iter()
        .map(|id| json!({"sys_id": id, "sys_updated_on": tie}))
        .collect();
    records.extend((0..9).map(|n| {
        json!({"short_description": format!("tie {n}"), "sys_updated_on": tie, "state": "1", "priority": "3"})
    }));
    upsert(&sim, Value::Array(records)).await;
    let tied = sys_ids(&sim, &format!("sys_updated_on={tie}")).await;
    assert_eq!(tied.len(), 15);

    for page_size in [1, 4, 7] {
        let mut connector = basic(&sim, "admin", "admin");
        let run = sync(&mut connector, &Filters::default(), page_size)
            .await
            .unwrap();
        assert_eq!(run.ids(), sys_ids(&sim, "").await, "page size {page_size}");
        assert!(run.repeats().is_empty(), "page size {page_size}");
        assert!(tied.is_subset(&run.ids()));
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn incidents_updated_or_created_during_paging_are_delivered() {
    let sim = sim(300).await;
    let all = sys_ids(&sim, "").await;
    let mut connector = basic(&sim, "admin", "admin");
    let delivered = std::sync::Mutex::new(HashSet::<String>::new());
    let touched_unseen = std::sync::Mutex::new(Vec::<String>::new());
    let sim_ref = &sim;
    let run = sync_with(
        &mut connector,
        None,
        &Filters::default(),
        50,
        |index, page| {
            delivered
                .lock()
                .unwrap()
                .extend(page.incidents.iter().map(|i| i.external_id.clone()));
            let seen_now = delivered.lock().unwrap().clone();
            let read: Vec<String> = page
                .incidents
                .iter()
                .take(5)
                .map(|i| i.external_id.clone())
                .collect();
            let unseen: Vec<String> = all.difference(&seen_now).take(5).cloned().collect();
            if index == 0 {
                touched_unseen
                    .lock()
                    .unwrap()
                    .extend(unseen.iter().cloned());
            }
            async move {
                if index != 0 {
                    return;
                }
                // Rows already read and rows not read yet move to the end of the order, and a new
                // incident appears: offset paging would now skip rows.
                let mut records: Vec<Value> = read
                    .iter()
                    .chain(unseen.iter())
                    .map(|id| json!({"sys_id": id, "state": "2"}))
                    .collect();
                records.push(json!({"short_description": "created during the sync", "state": "1"}));
                upsert(sim_ref, Value::Array(records)).await;
            }
        },
    )
    .await
    .unwrap();
    let now = sys_ids(&sim, "").await;
    assert_eq!(now.len(), 301);
    assert_eq!(run.ids(), now, "every incident, the new one included");
    assert!(touched_unseen
        .lock()
        .unwrap()
        .iter()
        .all(|id| run.ids().contains(id)));
    sim.shutdown().await;
}

#[tokio::test]
async fn acl_short_and_empty_pages_do_not_end_paging() {
    let sim = sim(400).await;
    let all = sys_ids(&sim, "").await;
    let cases = [
        // Half of each page hidden, on half the requests.
        json!({"path_prefix": "/api/now/table/incident", "kind": "short_page", "rate": 0.5}),
        // Whole pages come back empty while X-Total-Count says rows remain.
        json!({"path_prefix": "/api/now/table/incident", "kind": "short_page", "hide_rows": 10000, "count": 4}),
    ];
    for rule in cases {
        control(&sim, Method::DELETE, "/sim/faults", None).await;
        fault(&sim, rule.clone()).await;
        let mut connector = basic(&sim, "admin", "admin");
        let run = sync(&mut connector, &Filters::default(), 30).await.unwrap();
        assert!(fault_hits(&sim).await > 0, "{rule}: the fault never fired");
        assert_eq!(run.ids(), all, "{rule}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn a_stored_watermark_resumes_without_losing_records() {
    let sim = sim(200).await;
    let mut first = basic(&sim, "admin", "admin");
    let mut stored = None;
    let mut seen = HashSet::new();
    for _ in 0..2 {
        let page = first
            .next_page(stored.as_ref(), &Filters::default(), 40)
            .await
            .unwrap();
        seen.extend(page.incidents.iter().map(|i| i.external_id.clone()));
        stored = page.next;
    }
    // Records change while the app is closed; a new connector starts from the stored position.
    let early: Vec<String> = seen.iter().take(3).cloned().collect();
    upsert(
        &sim,
        Value::Array(
            early
                .iter()
                .map(|id| json!({"sys_id": id, "state": "3"}))
                .collect(),
        ),
    )
    .await;
    let mut second = basic(&sim, "admin", "admin");
    let rest = sync_with(&mut second, stored, &Filters::default(), 40, |_, _| async {
    })
    .await
    .unwrap();
    seen.extend(rest.ids());
    assert_eq!(seen, sys_ids(&sim, "").await);
    assert!(
        early.iter().all(|id| rest.ids().contains(id)),
        "updated records re-delivered"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn records_with_broken_keys_are_skipped_and_reported() {
    let sim = sim(30).await;
    let stored = upsert(
        &sim,
        json!([{"short_description": "bad date", "sys_updated_on": "31/12/2025 10:00"}]),
    )
    .await;
    let bad_id = stored[0]["sys_id"].as_str().unwrap().to_owned();
    let mut connector = basic(&sim, "admin", "admin");
    let run = sync(&mut connector, &Filters::default(), 7).await.unwrap();
    let skipped: Vec<_> = run.pages.iter().flat_map(|p| p.skipped.clone()).collect();
    assert!(
        skipped
            .iter()
            .any(|s| s.external_id.as_deref() == Some(bad_id.as_str())),
        "{skipped:?}"
    );
    assert!(!run.ids().contains(&bad_id));
    let mut expected = sys_ids(&sim, "").await;
    expected.remove(&bad_id);
    assert_eq!(run.ids(), expected);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn rate_limits_are_waited_out_then_reported() {
    let sim = sim(30).await;
    fault(&sim, json!({"path_prefix": "/api/now/table/incident", "status": 429, "retry_after": 1, "count": 2})).await;
    let mut connector = basic(&sim, "admin", "admin");
    let page = connector
        .next_page(None, &Filters::default(), 10)
        .await
        .unwrap();
    assert_eq!(page.incidents.len(), 10);
    assert_eq!(fault_hits(&sim).await, 2);

    control(&sim, Method::DELETE, "/sim/faults", None).await;
    fault(
        &sim,
        json!({"path_prefix": "/api/now/table/incident", "status": 429, "retry_after": 1}),
    )
    .await;
    let e = connector
        .next_page(None, &Filters::default(), 10)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited, "{e}");
    assert!(e.message.contains("Wait a few minutes"), "{}", e.message);
    assert!(detail(&e).contains("Rate limit"), "{}", detail(&e));
    assert_eq!(
        fault_hits(&sim).await,
        u64::from(RetryPolicy::fast().rate_limit_attempts)
    );

    // A server asking for an hour is not waited for.
    control(&sim, Method::DELETE, "/sim/faults", None).await;
    fault(
        &sim,
        json!({"path_prefix": "/api/now/table/incident", "status": 429, "retry_after": 3600}),
    )
    .await;
    let e = connector
        .next_page(None, &Filters::default(), 10)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::RateLimited);
    assert!(detail(&e).contains("3600 s"), "{}", detail(&e));
    assert_eq!(fault_hits(&sim).await, 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn server_errors_and_cancelled_transactions_are_retried() {
    let sim = sim(120).await;
    let all = sys_ids(&sim, "").await;
    let cases = [
        (
            json!({"path_prefix": "/api/now/table/incident", "status": 500, "count": 2}),
            None,
        ),
        (
            json!({"path_prefix": "/api/now/table/incident", "status": 503, "count": 1}),
            None,
        ),
        (
            json!({"path_prefix": "/api/now/table/incident", "status": 500}),
            Some(ErrorCode::ServerError),
        ),
        (
            json!({"path_prefix": "/api/now/table/incident", "kind": "transaction_cancelled"}),
            Some(ErrorCode::ServerError),
        ),
    ];
    for (rule, failure) in cases {
        control(&sim, Method::DELETE, "/sim/faults", None).await;
        fault(&sim, rule.clone()).await;
        let mut connector = basic(&sim, "admin", "admin");
        match failure {
            None => assert_eq!(
                sync(&mut connector, &Filters::default(), 40)
                    .await
                    .unwrap()
                    .ids(),
                all
            ),
            Some(code) => {
                let e = sync(&mut connector, &Filters::default(), 40)
                    .await
                    .err()
                    .unwrap();
                assert_eq!(e.code, code, "{rule}: {e}");
            }
        }
    }

    // A cancelled transaction (500 or 200) shrinks the page for the rest of the run.
    for status in [500, 200] {
        control(&sim, Method::DELETE, "/sim/faults", None).await;
        fault(&sim, json!({"path_prefix": "/api/now/table/incident", "kind": "transaction_cancelled", "status": status, "count": 1})).await;
        let mut connector = basic(&sim, "admin", "admin");
        let run = sync(&mut connector, &Filters::default(), 100)
            .await
            .unwrap();
        assert_eq!(run.ids(), all);
        assert!(
            run.pages.iter().all(|p| p.incidents.len() <= 50),
            "status {status}: page not lowered"
        );
        assert!(
            run.notes().iter().any(|n| n.contains("reduced to 50")),
            "{:?}",
            run.notes()
        );
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_and_truncated_bodies_are_retried_then_reported() {
    let sim = sim(50).await;
    let all = sys_ids(&sim, "").await;
    for kind in ["malformed_json", "truncated"] {
        control(&sim, Method::DELETE, "/sim/faults", None).await;
        fault(
            &sim,
            json!({"path_prefix": "/api/now/table/incident", "kind": kind, "count": 2}),
        )
        .await;
        let mut connector = basic(&sim, "admin", "admin");
        let run = sync(&mut connector, &Filters::default(), 20).await.unwrap();
        assert_eq!(run.ids(), all, "{kind}");
        assert_eq!(fault_hits(&sim).await, 2, "{kind}");

        control(&sim, Method::DELETE, "/sim/faults", None).await;
        fault(
            &sim,
            json!({"path_prefix": "/api/now/table/incident", "kind": kind}),
        )
        .await;
        let e = connector
            .next_page(None, &Filters::default(), 20)
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::MalformedResponse, "{kind}: {e}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn cancelling_stops_a_request_in_flight() {
    let sim = sim(10).await;
    fault(
        &sim,
        json!({"path_prefix": "/api/now/table/incident", "kind": "slow", "delay_ms": 30000}),
    )
    .await;
    let mut connector = basic(&sim, "admin", "admin");
    let token = connector.cancel_token();
    let canceller = tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        token.cancel();
    });
    let e = connector
        .next_page(None, &Filters::default(), 5)
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
    canceller.await.unwrap();
    // Once cancelled, the connector refuses further work.
    let e = connector.test_connection().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::Cancelled);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// OAuth

#[tokio::test]
async fn oauth_tokens_expiring_mid_run_are_renewed_transparently() {
    let sim = sim(150).await;
    let mut connector = oauth(&sim, "demo-secret");
    let sim_ref = &sim;
    let run = sync_with(
        &mut connector,
        None,
        &Filters::default(),
        30,
        |index, _| async move {
            match index {
                // Access tokens expire: the refresh token gets a new one.
                0 => control(sim_ref, Method::POST, "/sim/oauth/expire", None).await,
                // Refresh tokens expire too: the password grant signs in again.
                1 => {
                    control(
                        sim_ref,
                        Method::POST,
                        "/sim/oauth/expire",
                        Some(json!({"refresh_tokens": true})),
                    )
                    .await
                }
                _ => Value::Null,
            };
        },
    )
    .await
    .unwrap();
    assert_eq!(run.ids(), sys_ids(&sim, "").await);
    sim.shutdown().await;
}

#[tokio::test]
async fn short_lived_tokens_are_refreshed_before_use() {
    let sim = sim(40).await;
    // Tokens live one second: the connector renews before each use instead of failing.
    control(
        &sim,
        Method::PUT,
        "/sim/oauth",
        Some(json!({"access_token_ttl": 1})),
    )
    .await;
    let mut connector = oauth(&sim, "demo-secret");
    let run = sync(&mut connector, &Filters::default(), 10).await.unwrap();
    assert_eq!(run.ids(), sys_ids(&sim, "").await);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Deletions and reconcile

#[tokio::test]
async fn deletions_come_from_sys_audit_delete_and_reconcile_lists_every_id() {
    let sim = sim(100).await;
    let mut connector = basic(&sim, "admin", "admin");
    assert!(connector.supports_deletion_log());
    let before = connector
        .deleted_since("2000-01-01T00:00:00Z")
        .await
        .unwrap();
    let victims: Vec<String> = sys_ids(&sim, "").await.into_iter().take(3).collect();
    for id in &victims {
        control(
            &sim,
            Method::DELETE,
            &format!("/sim/records/incident/{id}"),
            None,
        )
        .await;
    }
    let after = connector
        .deleted_since("2000-01-01T00:00:00Z")
        .await
        .unwrap();
    let new: HashSet<&String> = after
        .ids
        .iter()
        .filter(|id| !before.ids.contains(id))
        .collect();
    assert_eq!(new, victims.iter().collect::<HashSet<_>>());
    let checkpoint = after.checkpoint.clone().expect("checkpoint");
    // From the checkpoint on, at least the newest deletion is seen again (inclusive), nothing
    // older than it.
    let since = connector.deleted_since(&checkpoint).await.unwrap();
    assert!(!since.ids.is_empty() && since.ids.iter().all(|id| after.ids.contains(id)));

    let listed = connector.list_all_ids(&Filters::default()).await.unwrap();
    assert!(listed.is_complete());
    assert_eq!(
        listed.ids.iter().cloned().collect::<HashSet<_>>(),
        sys_ids(&sim, "").await
    );
    assert_eq!(listed.ids.len(), 97);

    let e = basic(&sim, "svc.readonly", "readonly")
        .deleted_since("2000-01-01")
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Forbidden);
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Filters

#[tokio::test]
async fn filters_narrow_servicenow_results() {
    let sim = sim(300).await;
    let cases: Vec<(Filters, &str)> = vec![
        (
            Filters {
                priority: vec!["1".into(), "high".into()],
                ..Filters::default()
            },
            "priorityIN1,2",
        ),
        (
            Filters {
                raw_query: Some("category=network^ORcategory=database^ORDERBYDESCnumber".into()),
                ..Filters::default()
            },
            "category=network^ORcategory=database",
        ),
        (
            Filters {
                state: vec!["Closed".into()],
                raw_query: Some("priority=1^NQpriority=2".into()),
                ..Filters::default()
            },
            "state=7^priority=1^NQstate=7^priority=2",
        ),
        (
            Filters {
                // A local time with an offset; ServiceNow compares raw UTC.
                updated_from: Some("2025-06-25T12:00:00+02:00".into()),
                ..Filters::default()
            },
            "sys_updated_on>=2025-06-25 10:00:00",
        ),
    ];
    for (filters, equivalent) in cases {
        let expected = sys_ids(&sim, equivalent).await;
        assert!(
            !expected.is_empty() && expected.len() < 300,
            "{equivalent}: {}",
            expected.len()
        );
        let mut connector = basic(&sim, "admin", "admin");
        let run = sync(&mut connector, &filters, 16).await.unwrap();
        assert_eq!(run.ids(), expected, "{equivalent}");
        let listed = connector.list_all_ids(&filters).await.unwrap();
        assert_eq!(
            listed.ids.into_iter().collect::<HashSet<_>>(),
            expected,
            "{equivalent}"
        );
    }
    sim.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Jira

fn assert_issue_fields(run: &Run) {
    for issue in &run.incidents {
        assert!(issue.number.contains('-'), "{issue:?}");
        assert!(issue.link.ends_with(&format!("/browse/{}", issue.number)));
        assert!(issue.updated_at.ends_with('Z'));
        assert!(
            ["Support", "Operations"].contains(&issue.category.as_str()),
            "{}",
            issue.category
        );
        assert!(!issue.state.is_empty() && !issue.priority.is_empty());
        for text in std::iter::once(&issue.description).chain(&issue.comments) {
            assert!(!text.contains("\"type\""), "ADF left in text: {text}");
        }
    }
    let described = run
        .incidents
        .iter()
        .filter(|i| !i.description.is_empty())
        .count();
    assert!(described > run.incidents.len() / 2);
    let resolved: Vec<&SourceIncident> = run
        .incidents
        .iter()
        .filter(|i| i.close_code.as_deref() == Some("Done"))
        .collect();
    assert!(!resolved.is_empty());
    assert!(resolved
        .iter()
        .any(|i| i.resolution.starts_with("Resolution: ")));
    assert!(run.incidents.iter().any(|i| i.comments.len() > 1));
}

#[tokio::test]
async fn jira_cloud_full_fetch_extracts_text_from_adf() {
    let sim = sim(300).await;
    let count = jira_issue_count(&sim).await;
    let mut connector = jira_cloud(&sim, "demo-token");
    let check = connector.test_connection().await.unwrap();
    assert_eq!(check.system, "Jira Cloud");
    let run = sync(&mut connector, &Filters::default(), 37).await.unwrap();
    assert_eq!(run.incidents.len(), count);
    assert_eq!(run.ids().len(), count);
    assert_issue_fields(&run);
    // The text extracted from ADF equals what Data Center sends as plain strings.
    let dc = sync(&mut jira_dc(&sim), &Filters::default(), 100)
        .await
        .unwrap();
    let dc: HashMap<&str, &SourceIncident> = dc
        .incidents
        .iter()
        .map(|i| (i.number.as_str(), i))
        .collect();
    for issue in &run.incidents {
        let twin = dc[issue.number.as_str()];
        assert_eq!(issue.description, twin.description, "{}", issue.number);
        assert_eq!(issue.resolution, twin.resolution, "{}", issue.number);
        let bodies = |i: &SourceIncident| -> Vec<String> {
            i.comments
                .iter()
                .map(|c| c.split_once(": ").unwrap().1.to_owned())
                .collect()
        };
        assert_eq!(bodies(issue), bodies(twin), "{}", issue.number);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn jira_data_center_full_fetch_with_a_personal_access_token() {
    let sim = sim(300).await;
    let count = jira_issue_count(&sim).await;
    let mut connector = jira_dc(&sim);
    let check = connector.test_connection().await.unwrap();
    assert_eq!(check.system, "Jira Data Center");
    let run = sync(&mut connector, &Filters::default(), 45).await.unwrap();
    assert_eq!(run.incidents.len(), count);
    assert_eq!(run.ids().len(), count);
    assert_eq!(run.pages[0].total_hint, Some(count as u64));
    assert_issue_fields(&run);
    assert!(run.incidents.iter().all(|i| i.link.contains("/dc/browse/")));
    let listed = connector.list_all_ids(&Filters::default()).await.unwrap();
    assert!(listed.is_complete());
    assert_eq!(listed.ids.into_iter().collect::<HashSet<_>>(), run.ids());
    sim.shutdown().await;
}

#[tokio::test]
async fn jira_ties_and_issues_touched_during_paging_are_delivered() {
    let sim = sim(200).await;
    let count = jira_issue_count(&sim).await;
    // Seven issues share one millisecond, more than a page.
    let tied: Vec<Value> = (1..=7)
        .map(|n| json!({"key": format!("SUP-{n}"), "updated": "2025-07-01 00:00:00"}))
        .collect();
    control(
        &sim,
        Method::POST,
        "/sim/jira/issues",
        Some(Value::Array(tied)),
    )
    .await;
    for flavour in ["cloud", "dc"] {
        let mut connector = if flavour == "cloud" {
            jira_cloud(&sim, "demo-token")
        } else {
            jira_dc(&sim)
        };
        let keys = std::sync::Mutex::new(Vec::<String>::new());
        let touched = std::sync::Mutex::new(vec!["OPS-30".to_owned(), "SUP-40".to_owned()]);
        let sim_ref = &sim;
        let run = sync_with(
            &mut connector,
            None,
            &Filters::default(),
            3,
            |index, page| {
                keys.lock()
                    .unwrap()
                    .extend(page.incidents.iter().map(|i| i.number.clone()));
                let first = keys.lock().unwrap().first().cloned().unwrap_or_default();
                if index == 2 {
                    touched.lock().unwrap().push(first.clone());
                }
                async move {
                    if index == 2 {
                        // One issue already read and two not read yet are updated now.
                        let touch: Vec<Value> = [first.as_str(), "OPS-30", "SUP-40"]
                            .iter()
                            .map(|k| json!({"key": k}))
                            .collect();
                        control(
                            sim_ref,
                            Method::POST,
                            "/sim/jira/issues",
                            Some(Value::Array(touch)),
                        )
                        .await;
                    }
                }
            },
        )
        .await
        .unwrap();
        assert_eq!(run.ids().len(), count, "{flavour}");
        let delivered = keys.lock().unwrap().clone();
        let touched: HashSet<String> = touched.lock().unwrap().iter().cloned().collect();
        assert_eq!(touched.len(), 3);
        for key in touched.iter().map(String::as_str).chain(["SUP-1", "SUP-7"]) {
            assert!(
                delivered.iter().any(|k| k == key),
                "{flavour}: {key} missing"
            );
        }
        let first = delivered[0].clone();
        assert_eq!(
            delivered.iter().filter(|k| **k == first).count(),
            2,
            "{flavour}: the issue read first and touched later comes again"
        );
        // Only the touched issues may come twice.
        let twice: HashSet<String> = run
            .repeats()
            .keys()
            .map(|id| {
                run.incidents
                    .iter()
                    .find(|i| &i.external_id == id)
                    .unwrap()
                    .number
                    .clone()
            })
            .collect();
        assert!(twice.is_subset(&touched), "{flavour}: {twice:?}");
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn jira_resumes_from_a_stored_watermark_with_an_overlap() {
    let sim = sim(120).await;
    let mut first = jira_cloud(&sim, "demo-token");
    let page = first
        .next_page(None, &Filters::default(), 50)
        .await
        .unwrap();
    let mut ids: HashSet<String> = page
        .incidents
        .iter()
        .map(|i| i.external_id.clone())
        .collect();
    let mut second = jira_cloud(&sim, "demo-token");
    let rest = sync_with(
        &mut second,
        page.next.clone(),
        &Filters::default(),
        50,
        |_, _| async {},
    )
    .await
    .unwrap();
    ids.extend(rest.ids());
    assert_eq!(ids.len(), jira_issue_count(&sim).await);
    sim.shutdown().await;
}

#[tokio::test]
async fn jira_filters_refusals_and_rate_limits() {
    let sim = sim(200).await;
    let count = jira_issue_count(&sim).await;
    let mut connector = jira_cloud(&sim, "demo-token");
    let ops = sync(
        &mut connector,
        &Filters {
            raw_query: Some("project = OPS ORDER BY created DESC".into()),
            ..Filters::default()
        },
        40,
    )
    .await
    .unwrap();
    assert!(!ops.incidents.is_empty() && ops.incidents.len() < count);
    assert!(ops.incidents.iter().all(|i| i.number.starts_with("OPS-")));

    let done = sync(
        &mut jira_dc(&sim),
        &Filters {
            state: vec!["Done".into()],
            category: vec!["SUP".into()],
            ..Filters::default()
        },
        40,
    )
    .await
    .unwrap();
    assert!(!done.incidents.is_empty());
    assert!(done
        .incidents
        .iter()
        .all(|i| i.state == "Done" && i.number.starts_with("SUP-")));

    let e = sync(
        &mut jira_cloud(&sim, "demo-token"),
        &Filters {
            raw_query: Some("flavour = vanilla".into()),
            ..Filters::default()
        },
        40,
    )
    .await
    .err()
    .unwrap();
    assert_eq!(e.code, ErrorCode::QueryInvalid, "{e}");
    assert!(detail(&e).contains("flavour"), "{}", detail(&e));

    fault(&sim, json!({"path_prefix": "/rest/api/3/search/jql", "status": 429, "retry_after": 1, "count": 2})).await;
    let run = sync(
        &mut jira_cloud(&sim, "demo-token"),
        &Filters::default(),
        100,
    )
    .await
    .unwrap();
    assert_eq!(run.ids().len(), count);
    assert_eq!(fault_hits(&sim).await, 2);
    assert!(!jira_cloud(&sim, "demo-token").supports_deletion_log());
    sim.shutdown().await;
}

/// The sync pipeline runs connectors on spawned tasks, which need `Send` futures.
#[test]
fn connector_futures_can_run_on_spawned_tasks() {
    fn spawnable<T: Send>(_: T) {}
    for (kind, auth, credentials) in [
        (
            Kind::Servicenow,
            AuthType::Oauth2,
            Credentials {
                username: Some("u".into()),
                password: secret("p"),
                client_id: Some("c".into()),
                client_secret: secret("s"),
                ..Credentials::default()
            },
        ),
        (
            Kind::Jira,
            AuthType::Basic,
            Credentials {
                username: Some("u".into()),
                password: secret("p"),
                ..Credentials::default()
            },
        ),
    ] {
        let mut connector = connector(kind, auth, "https://x.example.com", credentials);
        let filters = Filters::default();
        spawnable(connector.test_connection());
        spawnable(connector.next_page(None, &filters, 10));
        spawnable(connector.deleted_since("2024-01-01"));
        spawnable(connector.list_all_ids(&filters));
    }
}

#[tokio::test]
async fn jira_basic_auth_detects_the_deployment_from_server_info() {
    let sim = sim(10).await;
    let basic_jira = |url: String| {
        connector(
            Kind::Jira,
            AuthType::Basic,
            &url,
            Credentials {
                username: Some("demo@example.com".into()),
                password: secret("demo-token"),
                ..Credentials::default()
            },
        )
    };
    let check = basic_jira(sim.base_url()).test_connection().await.unwrap();
    assert_eq!(check.system, "Jira Cloud");
    // The simulated Data Center takes PATs only: detected, then refused.
    let mut dc = basic_jira(format!("{}/dc", sim.base_url()));
    let e = dc.test_connection().await.unwrap_err();
    assert_eq!(e.code, ErrorCode::AuthInvalid, "{e}");
    match &mut dc {
        Connector::Jira(jira) => {
            assert_eq!(
                jira.flavour().await.unwrap(),
                supportbot_core::connectors::JiraFlavour::DataCenter
            )
        }
        Connector::ServiceNow(_) => unreachable!(),
    }
    sim.shutdown().await;
}
